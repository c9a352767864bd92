//go:build race

package keras

// addressSpacePerHeapByte: under the race detector every heap byte also
// needs about two bytes of shadow memory, all inside RLIMIT_AS, so the
// child's address-space cap is scaled to leave the same heap budget
// (measured: without it a race build's child failed at ~700 MiB of heap
// under a 2 GiB cap).
const addressSpacePerHeapByte = 3
