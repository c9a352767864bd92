package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/fruitcam/fruitcam/infer/preprocess"
)

// Command is one subcommand. Run gets the arguments after its name.
type Command struct {
	Name, Summary string
	Run           func(args []string, stdout, stderr io.Writer) error
}

// UsageError marks errors in how a program was invoked (exit status 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Usage lists the commands.
func Usage(w io.Writer, prog string, commands []Command) {
	fmt.Fprintf(w, "usage: %s <command> [flags]\n\ncommands:\n", prog)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> -h' for a command's flags.\n", prog)
}

// Main runs the command args[0] names and returns the exit status. Usage
// errors are printed as "prog command: msg"; other errors as "prog: err",
// since fruitcam's errors already name the package they come from.
func Main(prog string, commands []Command, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		Usage(stderr, prog, commands)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		Usage(stdout, prog, commands)
		return 0
	}
	for _, c := range commands {
		if c.Name != args[0] {
			continue
		}
		err := c.Run(args[1:], stdout, stderr)
		var ue *UsageError
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "%s %s: %v\n", prog, c.Name, err)
			return 2
		}
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return 1
	}
	fmt.Fprintf(stderr, "%s: unknown command %q\n", prog, args[0])
	Usage(stderr, prog, commands)
	return 2
}

// ParseFlags parses a command's flags and returns its positional
// arguments. Flags may follow them (`convert keras IN.h5 -o OUT`), which
// the flag package alone does not allow; "--" ends the flags. Parse
// failures become usage errors (the flag package has printed the details).
func ParseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &UsageError{Msg: err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stopped at a positional argument, or after "--".
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// IsSet reports whether the named flag was given on the command line.
func IsSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// CheckPreprocess checks preprocessing names given as flags, so that a
// typo is a usage error rather than a model failure. Empty names are
// accepted (not set).
func CheckPreprocess(normalize, resize, fit, color string) error {
	if _, err := preprocess.ParseNormalize(normalize); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if _, err := preprocess.ParseResize(resize); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if _, err := preprocess.ParseFit(fit); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if _, err := preprocess.ParseColorOrder(color); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	return nil
}
