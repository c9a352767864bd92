// Package metrics exposes the agent's figures to Prometheus: a small
// registry of counters, gauges, histograms and state sets, written in the
// text exposition format 0.0.4, and an HTTP server with /metrics and
// /healthz (issue 7, operability). It uses the standard library only.
//
// # Registry
//
// Metrics are registered once, at start-up, with their labels fixed
// (camera="belt"): the label text is escaped and rendered then, so that
// updating (Counter.Inc, Gauge.Set, Histogram.Observe, StateSet.Set) is
// a few atomic operations, safe from any goroutine and allocation-free,
// and a scrape only copies bytes. Figures that other packages already
// count (pipeline.Stats, the Edge TPU watchdog, capture.Health) are
// copied in by an OnScrape function, once per scrape. Agent registers
// the agent's own figures, the same as the MQTT stats payload's, under
// fixed names (fruitcam_*); durations are in seconds, as Prometheus
// expects, where the stats payload has milliseconds.
//
// # Format
//
// The writer follows the text-based format of Prometheus's "Exposition
// formats", version 0.0.4: one "# HELP" and "# TYPE" line per family,
// then its samples; label values escape backslash, double quote and line
// feed (\\, \", \n), HELP text backslash and line feed; values are Go
// floats with +Inf, -Inf and NaN; histograms write cumulative
// name_bucket{le="..."} lines ending with le="+Inf", then name_sum and
// name_count, the count equal to the +Inf bucket. A StateSet (OpenMetrics
// has the type; 0.0.4 does not) is written as a gauge per state, 1 for
// the current state and 0 for the others. Invalid UTF-8 in a label value
// is replaced by U+FFFD, as Prometheus rejects the whole scrape otherwise.
//
// # Server
//
// Listen binds a loopback address (DefaultAddr, 127.0.0.1:9464) unless the
// caller allows a remote one: the server has no authentication, so
// exposing it is an explicit choice (http.allow_remote in the config).
// /metrics serves the registry; /healthz answers 200 "ok" when every
// component is ok and 503 with a JSON HealthReport otherwise, so that
// systemd, a load balancer or a curl in a script can tell. Every other
// path is 404. Serve shuts down gracefully when its context ends.
package metrics
