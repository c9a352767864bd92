package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CheckHost checks what the config needs from this machine, after
// Resolve: the files it names and the environment variables it reads. It
// does not open cameras or GPIO pins (periph.io and V4L2 are the agent's
// job at start-up) and does not load the model (`agent validate` does).
//
// Errors are what would stop the agent from starting: a missing model or
// labels file, a folder source that matches no file, an unreadable
// password file, an unset password variable. Warnings are what it
// tolerates: a V4L2 device that is not plugged in (the agent waits for it
// and reopens it), a password file other users can read.
func (c *Config) CheckHost() (errs, warnings Errors) {
	fail := func(key, format string, args ...any) { errs = append(errs, c.Errorf(key, format, args...)) }
	warn := func(key, format string, args ...any) { warnings = append(warnings, c.Errorf(key, format, args...)) }

	regular := func(key, path, what string) {
		fi, err := os.Stat(path)
		switch {
		case err != nil:
			fail(key, "%s: %v", what, unwrapPath(err))
		case fi.IsDir():
			fail(key, "%s %s is a directory", what, path)
		}
	}
	if c.Model.Path != "" && !IsURL(c.Model.Path) {
		regular("model.path", c.Model.Path, "model")
	}
	if c.Model.CPUModel != "" {
		regular("model.cpu_model", c.Model.CPUModel, "model")
	}
	if c.Model.Labels != "" && !IsURL(c.Model.Labels) {
		regular("model.labels", c.Model.Labels, "labels")
	}
	if c.Fleet.CA != "" {
		regular("fleet.ca", c.Fleet.CA, "CA certificate")
	}
	if c.Fleet.SelfTest.Image != "" {
		regular("fleet.selftest.image", c.Fleet.SelfTest.Image, "self-test image")
	}
	if c.Signing.TrustedKeys != "" {
		regular("signing.trusted_keys", c.Signing.TrustedKeys, "trusted keys")
	}
	if c.MQTT.Enabled {
		for _, f := range []struct{ key, path string }{
			{"mqtt.tls.ca", c.MQTT.TLS.CA}, {"mqtt.tls.cert", c.MQTT.TLS.Cert}, {"mqtt.tls.key", c.MQTT.TLS.Key},
		} {
			if f.path != "" {
				regular(f.key, f.path, "TLS file")
			}
		}
	}
	for i, cam := range c.Cameras {
		key := fmt.Sprintf("cameras[%d].source", i)
		s := cam.Source
		switch s.Type {
		case SourceV4L2:
			fi, err := os.Stat(s.Device)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				warn(key+".device", "%s is not present; the agent will wait for it", s.Device)
			case err != nil:
				fail(key+".device", "%v", err)
			case fi.Mode()&fs.ModeCharDevice == 0:
				fail(key+".device", "%s is not a device", s.Device)
			}
		case SourceFolder:
			if s.Path == "" {
				break
			}
			if strings.ContainsAny(s.Path, "*?[") {
				m, err := filepath.Glob(s.Path)
				if err == nil && len(m) == 0 {
					fail(key+".path", "%s matches no file", s.Path)
				}
				break
			}
			if _, err := os.Stat(s.Path); err != nil {
				fail(key+".path", "image folder: %v", unwrapPath(err))
			}
		}
	}
	secret := func(key, file, env string) {
		if file != "" {
			fi, err := os.Stat(file)
			if err != nil {
				fail(key+".password_file", "%v", unwrapPath(err))
			} else if fi.Mode().Perm()&0o077 != 0 {
				warn(key+".password_file", "%s has mode %v: other users can read it (chmod 600 %s)", file, fi.Mode().Perm(), file)
			}
		}
		if env != "" {
			if _, ok := os.LookupEnv(env); !ok {
				fail(key+".password_env", "environment variable %s is not set", env)
			}
		}
	}
	if c.MQTT.Enabled {
		secret("mqtt", c.MQTT.PasswordFile, c.MQTT.PasswordEnv)
	}
	if c.MQTT.Embedded.Enabled {
		for i, u := range c.MQTT.Embedded.Users {
			secret(fmt.Sprintf("mqtt.embedded.users[%d]", i), u.PasswordFile, u.PasswordEnv)
		}
	}
	return errs, warnings
}

// unwrapPath shortens "stat x: no such file or directory" to
// "x: no such file or directory".
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// Password returns the MQTT client's password: the contents of
// PasswordFile (without a trailing line break) or the value of the
// environment variable PasswordEnv; "" when neither is set.
func (m *MQTT) Password() (string, error) {
	return readSecret("mqtt", m.PasswordFile, m.PasswordEnv)
}

// Password returns the user's password; see MQTT.Password.
func (u *User) Password() (string, error) {
	return readSecret("mqtt.embedded user "+u.Username, u.PasswordFile, u.PasswordEnv)
}

func readSecret(who, file, env string) (string, error) {
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("config: %s password: %w", who, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case env != "":
		p, ok := os.LookupEnv(env)
		if !ok {
			return "", fmt.Errorf("config: %s password: environment variable %s is not set", who, env)
		}
		return p, nil
	}
	return "", nil
}
