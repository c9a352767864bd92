//go:build 386 || arm || mips || mipsle

package keras

import "errors"

// errNoHDF5 is what 32-bit builds say about HDF5 files: the HDF5 library
// (github.com/scigolib/hdf5 v0.14.0) does not compile for 32-bit
// platforms. The .tflite files the converter writes run on every board, so
// converting on a 64-bit machine loses nothing.
var errNoHDF5 = errors.New("reading HDF5 (.h5, .keras) needs a 64-bit build of the converter " +
	"(the HDF5 library does not build for 32-bit platforms); convert on an amd64 or arm64 machine and copy the .tflite to the board")

func readH5(string) (*Model, error) { return nil, errNoHDF5 }

func readKerasWeights(*Model, string) error { return errNoHDF5 }
