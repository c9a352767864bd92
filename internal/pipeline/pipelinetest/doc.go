// Package pipelinetest holds fakes for testing code built on package
// pipeline: a Clock whose time moves only when told (with timers that
// fire on Advance), a Classifier that returns the scores an Image
// carries, and a Sink that records results.
package pipelinetest
