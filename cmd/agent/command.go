package main

import (
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
// and prints the device's reply.
func cmdCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("command", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: agent command --config FILE [--key KEY.pem] [--user U --password-env VAR] [--camera C] NAME")
		fmt.Fprintln(stderr, "NAME is pause, resume, snapshot, trigger or reload.")
		fs.PrintDefaults()
	}
	path := fs.String("config", "", "the device's config `file` (broker, prefix, device)")
	keyFile := fs.String("key", "", "sign with this private key `file` (agent keygen)")
	user := fs.String("user", "", "broker user (default: the config's mqtt.username)")
	pwEnv := fs.String("password-env", "", "environment `variable` holding the broker password of --user")
	camera := fs.String("camera", "", "the camera the command is for (snapshot, trigger)")
	wait := fs.Duration("wait", 15*time.Second, "how long to wait for the reply")
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
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	topics, err := publish.NewTopics(cfg.MQTT.Prefix, cfg.Device.ID)
	if err != nil {
		return err
	}
	id := fmt.Sprintf("cli-%d", time.Now().UnixNano())
	payload, err := json.Marshal(publish.Command{ID: id, Camera: *camera})
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
	replies := make(chan []byte, 4)
	c, broker, err := dial(ctx, cfg, u, pw, "command", *wait, func(c mqtt.Client) {
		c.Subscribe(topics.Reply(name), 1, func(_ mqtt.Client, m mqtt.Message) { replies <- m.Payload() }).Wait()
	})
	if err != nil || c == nil {
		return err
	}
	defer c.Disconnect(250)
	if tok := c.Publish(topics.Command(name), 1, false, payload); tok.WaitTimeout(*wait) && tok.Error() != nil {
		return fmt.Errorf("command: publish to %s on %s: %w", topics.Command(name), broker, tok.Error())
	}
	timer := time.NewTimer(*wait)
	defer timer.Stop()
	for {
		select {
		case b := <-replies:
			rep, err := publish.DecodeReply(b)
			if err != nil || rep.ID != id {
				continue // another operator's reply
			}
			fmt.Fprintln(stdout, string(b))
			if !rep.OK {
				return fmt.Errorf("%s refused: %s", name, rep.Error)
			}
			return nil
		case <-timer.C:
			return fmt.Errorf("command: no reply from %s within %v (is the agent running, and may %s publish on %s?)", cfg.Device.ID, *wait, u, topics.Command(name))
		case <-ctx.Done():
			return errors.New("command: interrupted")
		}
	}
}
