package keras

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// maxLayers bounds the graph so a hostile config cannot make us allocate
// without limit.
const maxLayers = 100000

// ParseConfig parses a Keras model configuration (the model_config attribute
// of an .h5 file or config.json of a .keras file) into a Model without
// weights.
func ParseConfig(data []byte) (*Model, error) {
	var top map[string]any
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("keras: model config is not a JSON object: %w", err)
	}
	class, _ := top["class_name"].(string)
	switch class {
	case "Sequential":
		return parseSequential(top["config"])
	case "Functional", "Model":
		cfg, ok := top["config"].(map[string]any)
		if !ok {
			return nil, errors.New("keras: functional model config has no \"config\" object")
		}
		return parseFunctional(cfg)
	case "":
		return nil, errors.New("keras: model config has no class_name")
	default:
		return nil, fmt.Errorf("keras: model class %s is not supported (want Sequential or Functional)", class)
	}
}

// rawLayer is one entry of a config's "layers" list.
type rawLayer struct {
	name    string
	class   string
	config  map[string]any
	inbound []string
}

func splitLayer(i int, v any) (*rawLayer, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("keras: layer %d is not a JSON object", i)
	}
	class, _ := m["class_name"].(string)
	if class == "" {
		return nil, fmt.Errorf("keras: layer %d has no class_name", i)
	}
	cfg, ok := m["config"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("keras: layer %d (%s) has no config object", i, class)
	}
	name, _ := m["name"].(string)
	if name == "" {
		name, _ = cfg["name"].(string)
	}
	if name == "" {
		return nil, fmt.Errorf("keras: layer %d (%s) has no name", i, class)
	}
	return &rawLayer{name: name, class: class, config: cfg}, nil
}

func parseSequential(v any) (*Model, error) {
	m := &Model{}
	var list []any
	var buildShape any
	switch c := v.(type) {
	case []any: // Keras 2.0/2.1 wrote the layer list directly
		list = c
	case map[string]any:
		m.Name, _ = c["name"].(string)
		var ok bool
		if list, ok = c["layers"].([]any); !ok {
			return nil, errors.New("keras: sequential config has no layers list")
		}
		buildShape = c["build_input_shape"]
	default:
		return nil, errors.New("keras: sequential model has no config")
	}
	if len(list) == 0 {
		return nil, errors.New("keras: sequential model has no layers")
	}
	if len(list) > maxLayers {
		return nil, fmt.Errorf("keras: %d layers is more than %d", len(list), maxLayers)
	}
	raws := make([]*rawLayer, 0, len(list)+1)
	for i, lv := range list {
		r, err := splitLayer(i, lv)
		if err != nil {
			return nil, err
		}
		raws = append(raws, r)
	}
	if raws[0].class != "InputLayer" {
		// Keras 2 records the input shape on the first layer; Keras 3 on
		// the model. Make the implicit input explicit for the converter.
		shapeV := raws[0].config["batch_input_shape"]
		if shapeV == nil {
			shapeV = raws[0].config["batch_shape"]
		}
		if shapeV == nil {
			shapeV = buildShape
		}
		if shapeV == nil {
			return nil, errors.New("keras: sequential model has no input shape (no InputLayer, batch_input_shape or build_input_shape)")
		}
		in := &rawLayer{name: raws[0].name + "_input", class: "InputLayer",
			config: map[string]any{"name": raws[0].name + "_input", "batch_input_shape": shapeV}}
		raws = append([]*rawLayer{in}, raws...)
	}
	for i := 1; i < len(raws); i++ {
		if raws[i].class == "InputLayer" {
			return nil, fmt.Errorf("keras: sequential layer %q is a second InputLayer", raws[i].name)
		}
		raws[i].inbound = []string{raws[i-1].name}
	}
	m.Inputs = []string{raws[0].name}
	m.Outputs = []string{raws[len(raws)-1].name}
	return build(m, raws)
}

func parseFunctional(cfg map[string]any) (*Model, error) {
	m := &Model{}
	m.Name, _ = cfg["name"].(string)
	list, ok := cfg["layers"].([]any)
	if !ok || len(list) == 0 {
		return nil, errors.New("keras: functional config has no layers")
	}
	if len(list) > maxLayers {
		return nil, fmt.Errorf("keras: %d layers is more than %d", len(list), maxLayers)
	}
	raws := make([]*rawLayer, 0, len(list))
	for i, lv := range list {
		r, err := splitLayer(i, lv)
		if err != nil {
			return nil, err
		}
		nodes, _ := lv.(map[string]any)["inbound_nodes"].([]any)
		if len(nodes) > 1 {
			return nil, fmt.Errorf("keras: layer %q is called %d times (shared layers are not supported by fruitcam's converter)", r.name, len(nodes))
		}
		if len(nodes) == 1 {
			if r.inbound, err = nodeInputs(nodes[0]); err != nil {
				return nil, fmt.Errorf("keras: layer %q: %w", r.name, err)
			}
		}
		raws = append(raws, r)
	}
	var err error
	if m.Inputs, err = endpoints(cfg["input_layers"]); err != nil {
		return nil, fmt.Errorf("keras: input_layers: %w", err)
	}
	if m.Outputs, err = endpoints(cfg["output_layers"]); err != nil {
		return nil, fmt.Errorf("keras: output_layers: %w", err)
	}
	return build(m, raws)
}

// nodeInputs returns the layer names one inbound node reads. Keras 2 writes a
// node as [[name, node, tensor, kwargs], ...]; Keras 3 as {"args": [...],
// "kwargs": {...}} with tensors as {"class_name": "__keras_tensor__",
// "config": {"keras_history": [name, node, tensor]}} nested anywhere in args.
func nodeInputs(node any) ([]string, error) {
	switch n := node.(type) {
	case []any:
		var names []string
		for _, t := range n {
			ref, ok := t.([]any)
			if !ok || len(ref) < 3 {
				return nil, errors.New("inbound node entry is not [layer, node, tensor, ...]")
			}
			name, ok := ref[0].(string)
			if !ok || name == "" {
				return nil, errors.New("inbound node entry has no layer name")
			}
			if err := checkRef(ref); err != nil {
				return nil, err
			}
			names = append(names, name)
		}
		return names, nil
	case map[string]any:
		var names []string
		if err := collectHistory(n["args"], &names, 0); err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return nil, errors.New("inbound node has no input tensors")
		}
		return names, nil
	default:
		return nil, errors.New("inbound node is neither a list nor an object")
	}
}

// checkRef refuses references to a second call or a second output of a
// layer: the converter only handles single-call, single-output layers.
func checkRef(ref []any) error {
	for _, i := range ref[1:3] {
		f, ok := i.(float64)
		if !ok {
			return errors.New("tensor reference index is not a number")
		}
		if f != 0 {
			return fmt.Errorf("tensor reference %v uses a second node or output, which is not supported", ref[:3])
		}
	}
	return nil
}

func collectHistory(v any, names *[]string, depth int) error {
	if depth > 32 {
		return errors.New("inbound node arguments nest too deeply")
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := collectHistory(e, names, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		if x["class_name"] == "__keras_tensor__" {
			cfg, _ := x["config"].(map[string]any)
			hist, _ := cfg["keras_history"].([]any)
			if len(hist) < 3 {
				return errors.New("keras tensor has no keras_history [layer, node, tensor]")
			}
			name, _ := hist[0].(string)
			if name == "" {
				return errors.New("keras_history has no layer name")
			}
			if err := checkRef(hist); err != nil {
				return err
			}
			*names = append(*names, name)
		}
	}
	return nil
}

// endpoints parses input_layers/output_layers: [[name, 0, 0], ...] or, in
// Keras 3 for a single tensor, [name, 0, 0].
func endpoints(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, errors.New("missing or empty")
	}
	if _, single := list[0].(string); single {
		list = []any{list}
	}
	var names []string
	for _, e := range list {
		ref, ok := e.([]any)
		if !ok || len(ref) < 3 {
			return nil, errors.New("entry is not [layer, node, tensor]")
		}
		name, _ := ref[0].(string)
		if name == "" {
			return nil, errors.New("entry has no layer name")
		}
		if err := checkRef(ref); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, nil
}

// build types every layer and sorts the graph topologically.
func build(m *Model, raws []*rawLayer) (*Model, error) {
	index := make(map[string]int, len(raws))
	for i, r := range raws {
		if _, dup := index[r.name]; dup {
			return nil, fmt.Errorf("keras: two layers are named %q", r.name)
		}
		index[r.name] = i
	}
	layers := make([]*Layer, len(raws))
	for i, r := range raws {
		l := &Layer{Name: r.name, Class: r.class, Config: r.config, Inbound: r.inbound}
		if err := typeLayer(l); err != nil {
			return nil, err
		}
		for _, in := range l.Inbound {
			if _, ok := index[in]; !ok {
				return nil, fmt.Errorf("keras: layer %q reads unknown layer %q", l.Name, in)
			}
		}
		layers[i] = l
	}
	for _, names := range [][]string{m.Inputs, m.Outputs} {
		for _, n := range names {
			if _, ok := index[n]; !ok {
				return nil, fmt.Errorf("keras: model input/output %q is not a layer", n)
			}
		}
	}
	for _, n := range m.Inputs {
		if c := layers[index[n]].Class; c != "InputLayer" {
			return nil, fmt.Errorf("keras: model input %q is a %s, not an InputLayer", n, c)
		}
	}
	// Kahn's algorithm, always taking the earliest ready layer so the
	// file's own (usually already topological) order is kept.
	pending := make([]int, len(layers))
	users := make([][]int, len(layers))
	for i, l := range layers {
		pending[i] = len(l.Inbound)
		for _, in := range l.Inbound {
			users[index[in]] = append(users[index[in]], i)
		}
		if len(l.Inbound) == 0 && l.Class != "InputLayer" {
			return nil, fmt.Errorf("keras: layer %q (%s) has no inputs", l.Name, l.Class)
		}
	}
	done := make([]bool, len(layers))
	order := make([]*Layer, 0, len(layers))
	for len(order) < len(layers) {
		next := -1
		for i := range layers {
			if !done[i] && pending[i] == 0 {
				next = i
				break
			}
		}
		if next < 0 {
			return nil, errors.New("keras: the layer graph has a cycle")
		}
		done[next] = true
		order = append(order, layers[next])
		for _, u := range users[next] {
			pending[u]--
		}
	}
	m.Layers = order
	return m, nil
}

// --- typed config helpers ---

func getInt(cfg map[string]any, key string, def int) (int, error) {
	v, ok := cfg[key]
	if !ok || v == nil {
		return def, nil
	}
	return toInt(v, key)
}

func toInt(v any, key string) (int, error) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<31 {
		return 0, fmt.Errorf("%s is not an integer: %v", key, v)
	}
	return int(f), nil
}

func getFloat(cfg map[string]any, key string, def float64) (float64, error) {
	v, ok := cfg[key]
	if !ok || v == nil {
		return def, nil
	}
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s is not a number: %v", key, v)
	}
	return f, nil
}

func getBool(cfg map[string]any, key string, def bool) (bool, error) {
	v, ok := cfg[key]
	if !ok || v == nil {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s is not a boolean: %v", key, v)
	}
	return b, nil
}

func getString(cfg map[string]any, key, def string) (string, error) {
	v, ok := cfg[key]
	if !ok || v == nil {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s is not a string: %v", key, v)
	}
	return s, nil
}

// getPair reads an int or a 2-list of ints (kernel_size, strides, ...).
// Values must be at least min.
func getPair(cfg map[string]any, key string, def [2]int, min int) ([2]int, error) {
	v, ok := cfg[key]
	if !ok || v == nil {
		return def, nil
	}
	var p [2]int
	switch x := v.(type) {
	case float64:
		n, err := toInt(x, key)
		if err != nil {
			return p, err
		}
		p = [2]int{n, n}
	case []any:
		if len(x) != 2 {
			return p, fmt.Errorf("%s has %d values, want 2", key, len(x))
		}
		for i := range p {
			n, err := toInt(x[i], key)
			if err != nil {
				return p, err
			}
			p[i] = n
		}
	default:
		return p, fmt.Errorf("%s is not an integer or a pair: %v", key, v)
	}
	if p[0] < min || p[1] < min {
		return p, fmt.Errorf("%s %v is below %d", key, p, min)
	}
	return p, nil
}

// getInts reads an int or a list of ints.
func getInts(cfg map[string]any, key string) ([]int, error) {
	v, ok := cfg[key]
	if !ok || v == nil {
		return nil, nil
	}
	if f, ok := v.(float64); ok {
		n, err := toInt(f, key)
		return []int{n}, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s is not an integer or a list: %v", key, v)
	}
	out := make([]int, len(list))
	for i, e := range list {
		n, err := toInt(e, key)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// getFloats reads a number or a (possibly nested) list of numbers.
func getFloats(cfg map[string]any, key string) ([]float64, error) {
	v, ok := cfg[key]
	if !ok || v == nil {
		return nil, nil
	}
	var out []float64
	var walk func(v any, depth int) error
	walk = func(v any, depth int) error {
		switch x := v.(type) {
		case float64:
			out = append(out, x)
		case []any:
			if depth > 8 {
				return fmt.Errorf("%s nests too deeply", key)
			}
			for _, e := range x {
				if err := walk(e, depth+1); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("%s is not a number or list of numbers: %v", key, v)
		}
		return nil
	}
	if err := walk(v, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// shapeList reads a shape such as [null, 96, 96, 3]; null becomes -1.
func shapeList(v any, key string) ([]int, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s is not a list: %v", key, v)
	}
	if len(list) > 8 {
		return nil, fmt.Errorf("%s has %d dimensions, more than 8", key, len(list))
	}
	out := make([]int, len(list))
	for i, e := range list {
		if e == nil {
			out[i] = -1
			continue
		}
		n, err := toInt(e, key)
		if err != nil {
			return nil, err
		}
		if n < -1 || n == 0 {
			return nil, fmt.Errorf("%s has invalid dimension %d", key, n)
		}
		out[i] = n
	}
	return out, nil
}

func lower(s string) string { return strings.ToLower(s) }
