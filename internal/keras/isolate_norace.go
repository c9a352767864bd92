//go:build !race

package keras

// addressSpacePerHeapByte is the address space the child's cap allows per
// byte of heap budget (see isolate_race.go).
const addressSpacePerHeapByte = 1
