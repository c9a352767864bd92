// Package publish sends the agent's classifications to the outside world:
// an MQTT client (paho.mqtt.golang, MQTT 3.1.1), an embedded MQTT broker
// (mochi-mqtt) for boards without one, a JSON-lines sink for piping, and
// the versioned payload contract they all speak (design.md section 5).
//
// # Topics
//
// Prefix defaults to "fruitcam"; <device> is the stable device id,
// <camera> a camera name from the config. Every name is one topic level
// (CheckLevel).
//
//	topic                                  retained  QoS        payload
//	<prefix>/<device>/status               yes       1          "online" / "offline" (the last will)
//	<prefix>/<device>/<camera>/result      no        Options    Result JSON, one per item
//	<prefix>/<device>/<camera>/label       yes       Options    the bare label of the last item, on change
//	<prefix>/<device>/stats                yes       Options    Stats JSON, periodically (retained: the board's last sign of life)
//	<prefix>/<device>/cmd/<name>           no        (sender)   Command JSON or empty: pause, resume, snapshot, trigger, reload, explain
//	<prefix>/<device>/cmd/<name>/reply     no        Options    Reply JSON; explain: raw PNG bytes on success
//	<prefix>/<device>/config/set           yes       1          this device's fleet config (signed envelope; from agent fleet push --device)
//	<prefix>/fleet/<group>/config          yes       1          the group's fleet config (signed envelope; from agent fleet push --group)
//	<prefix>/<device>/config/state         yes       1          ConfigState JSON: what the device did with its fleet configs, what it runs
//
// # Payloads
//
// JSON payloads carry "schema": 1 (Schema). Within a schema fields are
// only added, never renamed, removed or reformatted; the golden files in
// testdata/ and contract_test.go hold the package to that, and the
// decoders ignore fields they do not know so that old consumers read new
// payloads. Times ("ts") are RFC 3339 in UTC with milliseconds; latencies
// and inference times are milliseconds (floats, microsecond resolution).
// The constructors NewResult and NewStats take plain Go values, so this
// package depends on neither the pipeline nor the engine.
//
// # Availability
//
// The client connects with the last will "offline" on the status topic
// (QoS 1, retained: MQTT 3.1.1 section 3.1.2.5). After every connection,
// first or re-established, it renews the command subscription, publishes
// the last label of each camera again and then "online", so "online" means
// the device's state is in place. Close publishes "offline" itself and
// sends DISCONNECT, which discards the will (section 3.14.4); an agent
// that dies or loses its network gets "offline" from the broker instead.
//
// # Delivery
//
// QoS 1 (the default) and 2 messages published while the connection is
// down wait in paho's in-memory store and go out after reconnecting
// (clean session, a fixed client id). Each call waits for the broker's
// acknowledgement at most Options.PublishTimeout or its context, and then
// returns ErrTimeout although the message may still be delivered later;
// for a message kept across a reconnection paho reports success when it
// re-sends it rather than on the acknowledgement. QoS 0 messages are
// dropped while reconnecting, silently (TestQoS0DroppedWhileReconnecting).
// The agent's durable store-and-forward queue (publish/spool) sits in
// front of this client: it hands a result over and waits for the
// acknowledgement, so nothing waits in paho's store across a restart.
//
// # Embedded broker
//
// StartBroker runs mochi-mqtt on a loopback address by default. With
// BrokerOptions.Users set every client must authenticate (passwords are
// compared in constant time); access is denied by default: the agent's own
// user reads and writes under <prefix>/<device>/# and reads the fleet
// configs, operators may also send commands and push fleet configs, every
// other user only reads under <prefix>/#, and a will on a
// topic the user may not write refuses the connection. $SYS and foreign
// topics are closed to everyone.
package publish
