// Package cli is the command-line frame shared by fruitcam's programs
// (agent, convert): a table of subcommands, exit codes, usage errors and
// flag parsing that lets flags follow positional arguments.
//
// Exit status: 0 on success (and for -h), 1 when the work fails, 2 when
// the program was invoked wrongly (a *UsageError).
package cli
