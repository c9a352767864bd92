package lower

import "fmt"

// UnsupportedError reports a valid Keras construct that has no exact
// lowering to the operators fruitcam's engine and TensorFlow Lite both run:
// a layer class, an activation or a setting. Fix says what the user can do.
type UnsupportedError struct {
	Layer string // Keras layer name
	Class string // Keras layer class
	What  string // what is not supported, e.g. `activation "elu"`
	Fix   string // what to do instead
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("lower: layer %q (%s): %s is not supported; %s", e.Layer, e.Class, e.What, e.Fix)
}

// ModelError reports a Keras graph that is inconsistent: shapes that do
// not fit together, weights that do not match their layer, an input of
// unknown size. The Keras file itself is then broken or was not written
// by model.save.
type ModelError struct {
	Layer string
	Class string
	Err   error
}

func (e *ModelError) Error() string {
	return fmt.Sprintf("lower: layer %q (%s): %v", e.Layer, e.Class, e.Err)
}

func (e *ModelError) Unwrap() error { return e.Err }
