// Package publishtest holds test helpers for code that speaks MQTT through
// package publish: a recording Subscriber that waits for messages with a
// deadline (no sleeps), a TCP Proxy whose connections can be cut abruptly
// (to make a broker see a dead client and send its last will), and a
// Mosquitto broker started in the foreground on a free loopback port.
//
// Everything here takes a testing.TB, fails the test on error and cleans
// up with t.Cleanup.
package publishtest
