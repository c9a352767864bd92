package pipeline

// NewActuatorSettled is NewActuator with a hook the scheduler calls each
// time it is about to wait, so tests step a fake clock deterministically.
func NewActuatorSettled(opts ActuatorOptions, settled func()) (*Actuator, error) {
	return newActuator(opts, nil, settled)
}
