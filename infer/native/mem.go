package native

import "unsafe"

// alignedBytes returns a zeroed slice of n bytes whose first byte is 64-byte
// aligned (a cache line, and enough for any SIMD load).
func alignedBytes(n int) []byte {
	if n == 0 {
		return nil
	}
	raw := make([]byte, n+63)
	off := int((64 - uintptrOf(raw)%64) % 64)
	return raw[off : off+n : off+n]
}

func uintptrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
