// Package native is fruitcam's pure-Go TensorFlow Lite interpreter.
//
// New turns a parsed model (package infer/tfl) into an Interpreter:
//
//  1. every operator is resolved to a kernel through one explicit table
//     (resolver.go); an operator without a kernel is refused with an
//     UnsupportedOpError that names it, its index and the backend that can
//     run it;
//  2. each kernel's prepare validates its tensors, computes output shapes
//     and precomputes everything it needs (fixed-point multipliers, packed
//     weights, lookup tables, scratch size);
//  3. the activation arena is planned: tensors whose lifetimes do not
//     overlap share memory, so a MobileNet needs a few hundred kilobytes,
//     not the sum of all its activations.
//
// Invoke then runs each kernel's eval in order; eval does no checks that
// cannot fail and allocates nothing. ResizeInput (batching) re-runs prepare
// and planning.
//
// Arithmetic follows TensorFlow Lite's reference kernels (fixed-point
// multipliers, rounding, saturation; package quant), so that results match
// the real runtime; the conformance suite in infer/conformance checks every
// real model against it. uint8 and int8 models share one integer core: the
// uint8 values are shifted into int8 (x−128) with the zero points shifted
// alike, which leaves every product and sum unchanged.
//
// One kernel per file; the heavy ones (convolution, fully connected) sit on
// the packed GEMM core in package infer/native/gemm, which is where faster
// (SIMD) kernels plug in.
package native
