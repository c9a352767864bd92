// Package testmodels builds, from fixtures, the models that tests and
// benchmarks of several packages share, so that each builds them the same
// way: the workshop's fruit CNN as `convert keras` writes it, in float32
// and in int8.
package testmodels
