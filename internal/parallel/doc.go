// Package parallel splits loops over a fixed number of goroutines. Each
// call owns its goroutines and returns when they are done, so no goroutine
// outlives the operator that started it.
package parallel
