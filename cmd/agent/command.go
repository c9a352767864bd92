package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/fruitcam/fruitcam/internal/atomicfile"
	"github.com/fruitcam/fruitcam/internal/cli"
	"github.com/fruitcam/fruitcam/internal/config"
	"github.com/fruitcam/fruitcam/internal/signing"
	"github.com/fruitcam/fruitcam/publish"
)

// cmdKeygen makes an operator's signing key: the private key in a file
// of mode 600, and the line to add to the devices' trusted keys file.
func cmdKeygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: agent keygen --out KEY.pem [--comment TEXT]")
		fs.PrintDefaults()
	}
	out := fs.String("out", "", "private key `file` to write (PEM, mode 600; never overwritten)")
	comment := fs.String("comment", "", "who the key belongs to, for the trusted keys line")
	pos, err := cli.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return cli.Usagef("unexpected argument %q", pos[0])
	case *out == "":
		return cli.Usagef("--out is required")
	}
	pub, priv, err := signing.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	if err := signing.SavePrivateKey(*out, priv); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "agent keygen: wrote %s (key id %s); add this line to the trusted keys file of each device (signing.trusted_keys):\n", *out, signing.KeyID(pub))
	fmt.Fprintln(stdout, signing.TrustedKeyLine(pub, *comment))
	return nil
}

// cmdCommand sends one command to a device, signed when --key is given,
// and prints the device's reply. explain's reply is a PNG, not JSON: it
// goes to the --out file.
func cmdCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("command", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: agent command --config FILE [--key KEY.pem] [--user U --password-env VAR] [--camera C] NAME")
		fmt.Fprintln(stderr, "       agent command --config FILE [...] [--camera C] [--label L] [--samples N] --out FILE.png explain")
		fmt.Fprintln(stderr, "NAME is pause, resume, snapshot, trigger, reload or explain.")
		fs.PrintDefaults()
	}
	path := fs.String("config", "", "the device's config `file` (broker, prefix, device)")
	keyFile := fs.String("key", "", "sign with this private key `file` (agent keygen)")
	user := fs.String("user", "", "broker user (default: the config's mqtt.username)")
	pwEnv := fs.String("password-env", "", "environment `variable` holding the broker password of --user")
	camera := fs.String("camera", "", "the camera the command is for (snapshot, trigger, explain)")
	out := fs.String("out", "", "explain: write the reply's PNG to this `file` (required for explain)")
	label := fs.String("label", "", "explain: the class to explain, by label or index (default: the camera's best class)")
	samples := fs.Int("samples", 0, "explain: number of perturbed images (default: the agent's, 1000)")
	wait := fs.Duration("wait", 0, "how long to wait for the reply (default 15s; 60s for explain, whose LIME takes seconds)")
	pos, err := cli.ParseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *path == "":
		return cli.Usagef("--config is required")
	case len(pos) != 1:
		return cli.Usagef("give one command name")
	}
	name := pos[0]
	explain := name == publish.CmdExplain
	switch {
	case explain && *out == "":
		return cli.Usagef("explain replies with a PNG image: give --out FILE.png to write it to")
	case !explain && (*out != "" || *label != "" || *samples != 0):
		return cli.Usagef("--out, --label and --samples are for explain, not %s", name)
	case *samples < 0:
		return cli.Usagef("--samples %d: give 2 or more (0: the agent's default)", *samples)
	case *wait < 0:
		return cli.Usagef("--wait %v: give a positive duration", *wait)
	}
	if *wait == 0 {
		*wait = 15 * time.Second
		if explain {
			*wait = time.Minute
		}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	topics, err := publish.NewTopics(cfg.MQTT.Prefix, cfg.Device.ID)
	if err != nil {
		return err
	}
	id := fmt.Sprintf("cli-%d", time.Now().UnixNano())
	payload, err := json.Marshal(publish.Command{ID: id, Camera: *camera, Label: *label, Samples: *samples})
	if err != nil {
		return err
	}
	if *keyFile != "" {
		key, err := signing.LoadPrivateKey(*keyFile)
		if err != nil {
			return err
		}
		if payload, err = signing.Sign(key, signing.Message{Purpose: signing.Command, Topic: topics.Command(name), Body: payload, Time: time.Now()}); err != nil {
			return err
		}
	}
	u, pw := cfg.MQTT.Username, ""
	if *user != "" {
		u = *user
	}
	switch {
	case *pwEnv != "":
		var ok bool
		if pw, ok = os.LookupEnv(*pwEnv); !ok {
			return fmt.Errorf("command: environment variable %s is not set", *pwEnv)
		}
	case *user == "":
		if pw, err = cfg.MQTT.Password(); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	replies := make(chan replyMsg, 4)
	// paho runs the connect handler on its own goroutine: publishing
	// before the subscription is in place would lose a quick reply (an
	// error reply comes back within milliseconds).
	subscribed := make(chan error, 1)
	c, broker, err := dial(ctx, cfg, u, pw, "command", *wait, func(c mqtt.Client) {
		tok := c.Subscribe(topics.Reply(name), 1, func(_ mqtt.Client, m mqtt.Message) { replies <- replyMsg{m.Payload(), time.Now()} })
		tok.Wait()
		select {
		case subscribed <- tok.Error():
		default: // a reconnect: the first subscription was waited for
		}
	})
	if err != nil || c == nil {
		return err
	}
	defer c.Disconnect(250)
	timer := time.NewTimer(*wait)
	defer timer.Stop()
	select {
	case err := <-subscribed:
		if err != nil {
			return fmt.Errorf("command: subscribe to %s on %s (may %s read it?): %w", topics.Reply(name), broker, u, err)
		}
	case <-timer.C:
		return fmt.Errorf("command: no subscription to %s on %s within %v", topics.Reply(name), broker, *wait)
	case <-ctx.Done():
		return errors.New("command: interrupted")
	}
	// A raw PNG reply carries no id: the first one that arrives once we
	// start publishing is taken as ours. (Another operator's explain
	// answered in that window would be taken instead; the agent runs
	// commands one at a time, so only one sent just before ours can.)
	sent := time.Now()
	if tok := c.Publish(topics.Command(name), 1, false, payload); tok.WaitTimeout(*wait) && tok.Error() != nil {
		return fmt.Errorf("command: publish to %s on %s: %w", topics.Command(name), broker, tok.Error())
	}
	timer.Reset(*wait)
	for {
		select {
		case r := <-replies:
			if explain && bytes.HasPrefix(r.b, pngSignature) {
				if r.at.Before(sent) {
					continue // an answer to an earlier explain
				}
				if err := atomicfile.WriteFile(*out, r.b, 0o644); err != nil {
					return fmt.Errorf("command: explain: %w", err)
				}
				fmt.Fprintf(stdout, "wrote %s (%d bytes)\n", *out, len(r.b))
				return nil
			}
			rep, err := publish.DecodeReply(r.b)
			if err != nil || rep.ID != id {
				continue // another operator's reply
			}
			fmt.Fprintln(stdout, string(r.b))
			if !rep.OK {
				return fmt.Errorf("%s refused: %s", name, rep.Error)
			}
			if explain {
				// explain answers a success with the PNG alone, so an OK
				// JSON reply carries no picture to write.
				return fmt.Errorf("command: explain: %s replied OK in JSON, without the PNG; nothing was written to %s", cfg.Device.ID, *out)
			}
			return nil
		case <-timer.C:
			hint := ""
			if explain {
				hint = "; a large model or --samples may need a longer --wait"
			}
			return fmt.Errorf("command: no reply from %s within %v (is the agent running, and may %s publish on %s?%s)", cfg.Device.ID, *wait, u, topics.Command(name), hint)
		case <-ctx.Done():
			return errors.New("command: interrupted")
		}
	}
}

// replyMsg is one message on the reply topic and when it arrived.
type replyMsg struct {
	b  []byte
	at time.Time
}

// pngSignature starts every PNG file (the PNG specification, 5.2).
var pngSignature = []byte("\x89PNG\r\n\x1a\n")
