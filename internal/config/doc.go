// Package config reads the agent's configuration: one YAML file, one
// Config struct for the whole agent (capture, inference, pipeline,
// actuators, MQTT, logging).
//
// # Loading
//
// Load(path) reads a file, Parse(data, name) decodes bytes; both validate
// and return every problem at once as Errors, each located by file, line
// and key:
//
//	configs/pi.yaml:12: infer.batch.size: -1 is not positive
//	configs/pi.yaml:7: model.bakend: unknown key (did you mean backend?)
//
// The steps, in order:
//
//  1. Environment substitution, on the text before it is parsed: ${NAME}
//     is the variable's value (an error naming it and the line when it is
//     unset), ${NAME:-default} falls back to default when NAME is unset
//     or empty, $$ is a literal $. Comments are skipped, so a
//     commented-out reference needs no variable. Values may not contain
//     line breaks, and are inserted as they are: quote the reference when
//     a value may contain YAML syntax such as ": " or " #".
//  2. Strict decoding onto Default(): unknown keys (with a suggestion when
//     one is close), duplicate keys, and values of the wrong type are
//     errors. A key with no value (or ~) keeps its default. Durations are
//     Go durations: 50ms, 1.5s, 1m30s; a bare 0 is allowed, other bare
//     numbers are not (is 20 seconds or milliseconds?). Anchors, aliases
//     and merge keys (<<: *common) work, e.g. for cameras sharing
//     settings. version: 1 must be present: a file for another version is
//     rejected before anything else is read.
//  3. Keys that do not apply to a source's or trigger's type (a device
//     for a folder source, a pin for an interval trigger) are errors, and
//     those fields are cleared, so the effective config (Marshal, `agent
//     validate --print`) shows only what is used.
//  4. Validate: ranges, enumerations, required keys per type, names used
//     in MQTT topics, addresses, and consistency between sections.
//
// Load then calls Resolve: relative paths (model.path, model.labels, a
// folder source's path, password files) are relative to the directory of
// the config file, not to the working directory, so configs/demo.yaml
// works from anywhere; device.id defaults to /etc/machine-id (else
// /var/lib/dbus/machine-id, else the host name) and mqtt.client_id to
// fruitcam-<device id>.
//
// # What is checked where
//
// Validate needs nothing but the Config. CheckHost, which `agent validate`
// runs unless told --offline, checks this machine: a missing model,
// labels file or password file, a folder source matching no file, or an
// unset password variable is an error (the agent could not start); a V4L2
// device that is not plugged in is a warning (the agent waits for it and
// reopens it), and so is a password file others can read. `agent
// validate` also reads the model: it fails when an actuator's label is not
// one of the model's labels (nor pipeline.unknown_label), since that
// actuator would never fire, and when the backend cannot run the model (a
// model compiled for the Edge TPU with backend native or tflite). GPIO
// pins are checked for syntax only; whether the board has them is known
// when the agent opens them.
//
// # Secrets
//
// Passwords never appear in a config file: configs are committed, copied
// between boards, published as fleet configs and printed by `agent
// validate --print`. A password is named instead, by password_file (a
// file, mode 600, whose contents without the trailing line break are the
// password) or by password_env (the name of an environment variable,
// e.g. set by a systemd EnvironmentFile). A key named password is
// rejected with that advice. MQTT.Password and User.Password read them.
//
// # Fleet configs
//
// A fleet config (a Layer) is a partial config, published signed and
// retained to a group or to one device (see package signing and `agent
// fleet push`). It has version: 1 and any keys of the sections in
// FleetSections. A device runs its own file with its group's layer merged
// on top, then its device layer on top of that (Merge):
//
//   - a mapping merges key by key: a key the layer sets replaces the value
//     below it, a key it does not set keeps it;
//   - cameras merge by name: an entry naming a camera of the config below
//     merges into that camera (only the keys it sets change); an entry with
//     a new name adds a camera; cameras are never removed by a layer;
//   - every other list (actuators, source formats) replaces the list below
//     it as a whole;
//   - a key with no value (or ~) keeps the value below it.
//
// The sections that make the device reachable and trusted (device, mqtt,
// signing, http, fleet), and its local output (stdout, log), stay in the
// device's own file: a layer setting them is refused, so no config sent
// over the network can cut a board off its broker or change whom it
// trusts. Paths in a layer are absolute paths on the board, or, for the
// model and labels, URLs with their SHA-256. ${VAR} references are not
// expanded in layers (a config from the network must not read the
// board's environment).
//
// # Reference
//
// Every key, its type, its default (the value in Default, DefaultCamera,
// DefaultActuator and DefaultUser; a test keeps this table and them in
// agreement) and its meaning. "[]" stands for each entry of a list.
// configs/schema.json is the same as a JSON Schema for editors.
//
//	| key | type | default | meaning |
//	|-----|------|---------|---------|
//	| `version` | int | (required) | config schema version; must be 1 |
//	| `device.id` | string | (machine id) | the device's MQTT topic level: letters, digits, `.`, `_`, `-`; default /etc/machine-id, else the host name |
//	| `device.group` | string | "" | fleet group whose configs the device follows (fruitcam/fleet/<group>/config) |
//	| `model.path` | path | (required) | the .tflite model |
//	| `model.labels` | path | "" | sidecar labels file, one per line; default: the labels in the model's metadata |
//	| `model.backend` | string | native | native (pure Go), tflite or edgetpu (agent built -tags tflite), auto: an Edge TPU model on the TPU when one answers, else its CPU model; a CPU model on native when it has every operator, else tflite |
//	| `model.threads` | int | 1 | interpreter threads per worker |
//	| `model.xnnpack` | bool | false | backend tflite: run float and int8 operators through TFLite's XNNPACK delegate (TFLite 2.9 here: MobileNet v2 int8 3.9 ms instead of 35 ms; uint8 models stay on the default kernels) |
//	| `model.normalize` | string | "" | unit (x/255), symmetric (x/127.5-1), caffe, none; default: metadata, else guessed from the input |
//	| `model.resize` | string | "" | nearest, bilinear, area; default: metadata, else nearest |
//	| `model.fit` | string | "" | squash (stretch) or crop (centre, keep aspect ratio); default: metadata, else squash |
//	| `model.color` | string | "" | rgb or bgr; default: metadata, else rgb (bgr with caffe) |
//	| `model.top` | int | 5 | classes per result (top k) |
//	| `model.cpu_model` | path | "" | the CPU .tflite of an Edge TPU model, run when the TPU is missing (auto) or fails; default: <name>.tflite beside <name>_edgetpu.tflite, when it exists |
//	| `model.sha256` | string | "" | the model file's SHA-256 (64 hex digits): required when model.path is a URL (http://, https://, file://; the agent fetches it into fleet.dir and refuses other content), checked at load for a local file |
//	| `model.labels_sha256` | string | "" | the same for model.labels |
//	| `model.edgetpu.device` | string | "" | which Edge TPU: usb, usb:N, pci, pci:N, :N (N-th of any kind, from 0); empty: any |
//	| `model.edgetpu.watchdog` | duration | 2s | an inference taking longer means the TPU stalled: the CPU model takes over (the first, which uploads the model to the TPU, may take 10 times as long); 0: only errors count |
//	| `model.edgetpu.retry` | duration | 30s | how often a failed TPU is tried again (the agent goes back to it when it answers); 0: never |
//	| `infer.workers` | int | 1 | interpreters running side by side |
//	| `infer.batch.size` | int | 1 | frames per invocation at most |
//	| `infer.batch.timeout` | duration | 20ms | a batch is flushed this long after its first frame even if not full |
//	| `cameras` | list | (required) | at least one camera |
//	| `cameras[].name` | string | (required) | unique, [a-z0-9_-]+, the camera's MQTT topic level; not status, stats, cmd, config, fleet |
//	| `cameras[].source.type` | string | (required) | v4l2 (a camera), folder (image files), pattern (synthetic frames) |
//	| `cameras[].source.device` | path | /dev/video0 | v4l2: the device |
//	| `cameras[].source.formats` | list of strings | [yuyv, mjpeg, nv12, grey] | v4l2: pixel formats in order of preference |
//	| `cameras[].source.width` | int | 640 | v4l2, pattern: frame width requested (v4l2: the driver may choose another) |
//	| `cameras[].source.height` | int | 480 | v4l2, pattern: frame height |
//	| `cameras[].source.fps` | int | 30 | v4l2: frame rate requested |
//	| `cameras[].source.buffers` | int | 4 | v4l2: driver buffers (1 to 32) |
//	| `cameras[].source.timeout` | duration | 2s | v4l2: wait this long for a frame before reopening the camera |
//	| `cameras[].source.path` | path | (required) | folder: a directory of images, or a glob such as images/*/*.jpg |
//	| `cameras[].source.rate` | number | 0 | folder, pattern: frames per second (a simulated conveyor); 0 = as fast as the pipeline takes them |
//	| `cameras[].source.loop` | bool | false | folder: start over after the last image instead of ending |
//	| `cameras[].roi.x` | int | 0 | region of interest (the belt): left edge in frame pixels |
//	| `cameras[].roi.y` | int | 0 | top edge |
//	| `cameras[].roi.width` | int | 0 | width; 0 = to the right edge of the frame |
//	| `cameras[].roi.height` | int | 0 | height; 0 = to the bottom of the frame |
//	| `cameras[].trigger.type` | string | continuous | when an item starts: continuous (every frame), interval, gpio (an input edge, e.g. a light barrier), mqtt (a trigger command) |
//	| `cameras[].trigger.fps` | number | 0 | continuous: at most this many items per second; 0 = every frame |
//	| `cameras[].trigger.interval` | duration | 1s | interval: time between items |
//	| `cameras[].trigger.pin` | string | (required) | gpio: input pin, e.g. GPIO17 |
//	| `cameras[].trigger.edge` | string | rising | gpio: rising, falling or both |
//	| `cameras[].trigger.debounce` | duration | 20ms | gpio: edges closer than this to the previous one are ignored |
//	| `cameras[].trigger.frames` | int | 1 | frames per item, aggregated into one result |
//	| `cameras[].trigger.frame_interval` | duration | 0s | time between an item's frames; 0 = consecutive frames |
//	| `pipeline.queue` | int | 16 | frames waiting for inference at most; when full the oldest is dropped and counted as skipped |
//	| `pipeline.aggregate` | string | mean | how an item's frames combine: mean (probabilities) or vote (majority of top labels) |
//	| `pipeline.threshold` | number | 0 | results scoring below it (0 to 1) get unknown_label |
//	| `pipeline.unknown_label` | string | unknown | the label of results below the threshold |
//	| `actuators` | list | [] | GPIO outputs pulsed per label |
//	| `actuators[].label` | string | (required) | the label that fires it, as the model spells it (or unknown_label) |
//	| `actuators[].pin` | string | (required) | output pin, e.g. GPIO27; not a trigger's input pin |
//	| `actuators[].delay` | duration | 0s | from the item's capture to the pulse (belt travel to the gate) |
//	| `actuators[].pulse` | duration | 100ms | how long the output is active |
//	| `actuators[].active_low` | bool | false | the output is active when low |
//	| `mqtt.enabled` | bool | true | publish results over MQTT |
//	| `mqtt.broker` | URL | tcp://127.0.0.1:1883 | tcp://, mqtt://, ssl://, tls://, mqtts://, ws:// or wss:// with host and port |
//	| `mqtt.client_id` | string | (fruitcam-<device id>) | MQTT client id; fixed, so the broker keeps the session |
//	| `mqtt.prefix` | string | fruitcam | first topic level(s): <prefix>/<device>/... |
//	| `mqtt.qos` | int | 1 | QoS of results: 0, 1 or 2 |
//	| `mqtt.username` | string | "" | user name at the broker |
//	| `mqtt.password_file` | path | "" | file holding the password |
//	| `mqtt.password_env` | string | "" | or: environment variable holding the password |
//	| `mqtt.keepalive` | duration | 30s | MQTT keep-alive (1s to 65535s) |
//	| `mqtt.embedded.enabled` | bool | false | run an MQTT broker inside the agent (mochi-mqtt) |
//	| `mqtt.embedded.listen` | host:port | 127.0.0.1:1883 | its TCP address; :1883 for every interface, port 0 for a free one |
//	| `mqtt.embedded.users` | list | [] | its accounts; at least one when enabled (no anonymous access) |
//	| `mqtt.embedded.users[].username` | string | (required) | user name |
//	| `mqtt.embedded.users[].password_file` | path | "" | file holding the password |
//	| `mqtt.embedded.users[].password_env` | string | "" | or: environment variable holding it (one of the two is required) |
//	| `mqtt.tls.ca` | path | "" | ssl:// brokers: the CA certificate (PEM) that signed the broker's; default: the system's CAs |
//	| `mqtt.tls.cert` | path | "" | a client certificate (PEM), for brokers that require one (with `mqtt.tls.key`) |
//	| `mqtt.tls.key` | path | "" | the client certificate's private key (PEM) |
//	| `mqtt.tls.server_name` | string | "" | the name the broker's certificate must carry; default: the broker URL's host |
//	| `mqtt.spool.dir` | path | "" | directory of the disk queue results wait in until the broker acknowledges them (survives broker outages and agent restarts); empty: in memory, 1,024 results |
//	| `mqtt.spool.max_bytes` | int | 67108864 | size of the disk queue (64 MiB, about 100,000 results); when full the oldest results are dropped, counted and logged |
//	| `mqtt.spool.max_records` | int | 0 | results the disk queue holds at most; 0: no limit but max_bytes |
//	| `mqtt.spool.sync_every` | duration | 200ms | fsync the disk queue at most this often (a power cut loses at most this long of results, none of them sent yet); 0: every result |
//	| `mqtt.homeassistant.enabled` | bool | false | announce the device to Home Assistant (MQTT discovery): label and score per camera, frames per second, status |
//	| `mqtt.homeassistant.prefix` | string | homeassistant | Home Assistant's discovery prefix |
//	| `mqtt.insecure` | bool | false | allow tcp:// or ws:// to a broker that is not on this machine (passwords and results in clear text) |
//	| `mqtt.stats_interval` | duration | 10s | period of the stats message; 0 = none |
//	| `stdout.enabled` | bool | false | write each result as a JSON line to standard output |
//	| `signing.trusted_keys` | path | "" | public keys (ed25519) whose signed commands the agent obeys; see `agent keygen` and `agent command` |
//	| `signing.window` | duration | 2m0s | a signed command is accepted this close to the device's clock, and once |
//	| `signing.allow_unsigned` | bool | false | without trusted keys, obey unsigned commands from an external broker too (the embedded broker's authenticated users always may) |
//	| `fleet.dir` | path | "" | directory of the fleet state: good configs kept, versions seen, models fetched (e.g. /var/lib/fruitcam/fleet); empty: fleet configs are not followed. Needs signing.trusted_keys |
//	| `fleet.keep` | int | 5 | good configs kept for rollback |
//	| `fleet.health_window` | duration | 1m0s | a new fleet config must stay healthy this long to count as good; a camera down or inference failing within it rolls back to the last good config |
//	| `fleet.fetch_timeout` | duration | 5m0s | longest download of a model or labels file named by URL |
//	| `fleet.ca` | path | "" | the CA certificate (PEM) of an https:// model server signed by a private CA; default: the system's CAs |
//	| `fleet.selftest.image` | path | "" | image a new model must classify before it replaces the running one; empty: a synthetic frame |
//	| `fleet.selftest.label` | string | "" | the label the new model must give fleet.selftest.image; empty: any |
//	| `http.enabled` | bool | false | serve Prometheus metrics at /metrics and health at /healthz |
//	| `http.listen` | string | 127.0.0.1:9464 | the HTTP server's host:port |
//	| `http.allow_remote` | bool | false | allow a listen address other than loopback (the server has no authentication) |
//	| `log.level` | string | info | debug, info, warn or error |
//	| `log.format` | string | text | text or json (log/slog handlers) |
package config
