package gemm

// int8Kernel is one implementation of the quantised GEMM's inner loops:
// the portable Go kernel or a SIMD one. Weights are packed for one kernel
// (Int8Weights remembers which), so a GEMM always runs the kernel its
// weights were packed for.
type int8Kernel interface {
	name() string
	// domain says how the kernel reads input bytes: as they are (raw),
	// or moved to signed or unsigned by flipping the sign bit.
	domain(inputUint8 bool) domain
	// pack lays out w's n×k signed-domain weights, at(row*k+col).
	pack(w *Int8Weights, at func(int) int8)
	// prepare precomputes g.ep, the kernel's form of the output stage.
	prepare(g *Int8, r Requant)
	// unit is the number of output channels in one block of channels.
	unit() int
	// block computes rows [0, m) of C for channel blocks [u0, u1).
	block(g *Int8, dst []byte, ldc int, a []byte, lda, m, u0, u1 int)
}

type domain int

const (
	rawX      domain = iota // the input's own type
	signedX                 // int8 (uint8 input flipped)
	unsignedX               // uint8 (int8 input flipped)
)

// f32Kernel is one implementation of the float GEMM's inner loops.
type f32Kernel interface {
	name() string
	// pack lays out the row-major n×k matrix b.
	pack(w *Float32Weights, b []float32)
	unit() int
	block(g *Float32, dst []float32, ldc int, a []float32, lda, m, u0, u1 int)
}

// int8Impl and f32Impl are the kernels new weights are packed for: the
// best this CPU runs (see the kernels_*.go files). Tests switch them to
// run every kernel on the same data.
var (
	int8Impl int8Kernel = portableInt8{}
	f32Impl  f32Kernel  = portableF32{}
)

// int8Kernels and f32Kernels list every kernel this CPU can run, best
// first; the portable kernels are always last.
var (
	int8Kernels = []int8Kernel{portableInt8{}}
	f32Kernels  = []f32Kernel{portableF32{}}
)

// use registers kernels this CPU supports, best first, and makes the
// first of each the default.
func use(i8 []int8Kernel, f32 []f32Kernel) {
	int8Kernels = append(i8, int8Kernels...)
	f32Kernels = append(f32, f32Kernels...)
	int8Impl, f32Impl = int8Kernels[0], f32Kernels[0]
}
