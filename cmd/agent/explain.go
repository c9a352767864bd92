package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/fruitcam/fruitcam/capture"
	"github.com/fruitcam/fruitcam/infer"
	"github.com/fruitcam/fruitcam/internal/config"
	"github.com/fruitcam/fruitcam/internal/lime"
	"github.com/fruitcam/fruitcam/publish"
)

// The explain command (<prefix>/<device>/cmd/explain) answers with a PNG
// of a camera's last item with its LIME overlay: the superpixels that
// raise the score of the class the model gave it (or of the payload's
// "label") outlined in yellow. The reply is the PNG's raw bytes on
// .../cmd/explain/reply, as Frigate publishes snapshots, so
// `mosquitto_sub -C 1 -t .../cmd/explain/reply > last.png` saves it; a
// failure is a JSON Reply as for every command.
//
// The explanation runs on the native engine, one engine of one thread per
// core, built for the command from the model the line runs (an Edge TPU
// model's CPU model): for those seconds the pipeline shares the cores
// and may skip frames (counted as skipped). Commands after it wait.
const (
	explainSamples    = 1000               // lime's default num_samples
	explainMaxSamples = 20000              // bound on the payload's samples
	explainTimeout    = 2 * time.Minute    // bound on one explanation
	explainMaxSide    = 1024               // the PNG's longer side, at most (brokers bound packets: 4 MiB embedded)
	explainSeed       = uint64(0x66727569) // fixed: the same item gives the same PNG
)

// keptFrames holds a copy of the first frame of each camera's last item,
// for explain. submit calls keep for every frame; it copies only when the
// item changes (a memcpy of the frame's bytes, e.g. 0.6 MB for 640×480
// YUYV, into a buffer reused from item to item), because the frame's own
// buffer goes back to the camera's pool once classified.
type keptFrames struct {
	m sync.Map // camera name → *keptFrame
}

type keptFrame struct {
	mu       sync.Mutex // guards the fields below against explain; the camera's goroutine is the only writer
	has      bool
	item     uint64
	seq      uint64
	captured time.Time
	img      image.Image // the copy, reused
}

// keep records f as camera's last item when it starts a new item. It
// runs on the camera's goroutine, before the frame is submitted.
func (k *keptFrames) keep(camera string, f *capture.Frame) {
	v, ok := k.m.Load(camera)
	if !ok {
		v, _ = k.m.LoadOrStore(camera, &keptFrame{})
	}
	kf := v.(*keptFrame)
	// Only this goroutine writes has and item: reading them unlocked is
	// safe here.
	if kf.has && kf.item == f.Item {
		return
	}
	kf.mu.Lock()
	kf.img = copyImage(kf.img, f.Image)
	kf.has, kf.item, kf.seq, kf.captured = true, f.Item, f.Seq, f.Captured
	kf.mu.Unlock()
}

// last returns a private copy of camera's last item's frame.
func (k *keptFrames) last(camera string) (img image.Image, item, seq uint64, ok bool) {
	v, found := k.m.Load(camera)
	if !found {
		return nil, 0, 0, false
	}
	kf := v.(*keptFrame)
	kf.mu.Lock()
	defer kf.mu.Unlock()
	if !kf.has {
		return nil, 0, 0, false
	}
	return copyImage(nil, kf.img), kf.item, kf.seq, true
}

// explain answers cmd/explain: payload is a publish.Command (camera,
// label, samples; all optional), the reply a PNG.
func (a *agent) explain(payload []byte) ([]byte, error) {
	cmd, err := publish.DecodeCommand(payload)
	if err != nil {
		return nil, err
	}
	switch {
	case cmd.Samples < 0 || cmd.Samples > explainMaxSamples:
		return nil, fmt.Errorf("explain: samples %d: give 2 to %d (0: %d)", cmd.Samples, explainMaxSamples, explainSamples)
	case cmd.Samples == 1:
		return nil, errors.New("explain: samples 1: give at least 2 (the image and one perturbation)")
	}
	var cam string
	cams := a.cameras()
	for _, c := range cams {
		if c.Name == cmd.Camera || (cmd.Camera == "" && len(cams) == 1) {
			cam = c.Name
		}
	}
	if cam == "" {
		return nil, fmt.Errorf("explain: name the camera (\"camera\": ...); %q is not one of the %d cameras", cmd.Camera, len(cams))
	}
	img, item, seq, ok := a.kept.last(cam)
	if !ok {
		return nil, fmt.Errorf("explain: camera %s has taken no item yet", cam)
	}
	ctx, cancel := context.WithTimeout(context.Background(), explainTimeout)
	defer cancel()
	cls, closeAll, err := a.explainClassifiers(ctx, a.line().cfg)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	defer closeAll()
	o := lime.Options{Samples: cmd.Samples, Seed: explainSeed}
	if o.Samples == 0 {
		o.Samples = explainSamples
	}
	if cmd.Label != "" {
		idx, err := labelIndex(cls[0].Labels(), cmd.Label)
		if err != nil {
			return nil, err
		}
		o.Labels = []int{idx}
	}
	e, err := lime.Explain(ctx, cls, img, o)
	if err != nil {
		return nil, fmt.Errorf("explain: camera %s item %d: %w", cam, item, err)
	}
	ov, err := e.Overlay(img, 0, lime.RenderOptions{MaxSide: explainMaxSide})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, ov); err != nil {
		return nil, fmt.Errorf("explain: encode PNG: %w", err)
	}
	c := e.Classes[0]
	top := make([]int, 0, 5)
	for _, w := range c.Weights[:min(5, len(c.Weights))] {
		top = append(top, w.Segment)
	}
	a.log.Info("explained", "camera", cam, "item", item, "seq", seq, "label", c.Label, "score", c.Score,
		"superpixels", e.NumSegments, "top", top, "r2", c.R2, "samples", e.Samples, "seconds", e.Elapsed.Seconds(), "png_bytes", buf.Len())
	return buf.Bytes(), nil
}

// explainClassifiers builds one native classifier per core for the
// model of cfg, preprocessed as the agent does it.
func (a *agent) explainClassifiers(ctx context.Context, cfg *config.Config) ([]*infer.Classifier, func() error, error) {
	m := cfg.Model
	path, labels, err := a.fetchModel(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	f, err := infer.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	md, err := f.Metadata()
	if err != nil {
		return nil, nil, err
	}
	if infer.IsEdgeTPU(f.Model) {
		twin := m.CPUModel
		if twin == "" || config.IsURL(twin) {
			twin = infer.CPUTwinPath(path)
		}
		if f, err = infer.ReadFile(twin); err != nil {
			return nil, nil, fmt.Errorf("explanations run on the CPU, which needs the Edge TPU model's CPU model (model.cpu_model): %w", err)
		}
		if cmd, err := f.Metadata(); err != nil {
			return nil, nil, err
		} else if cmd != nil {
			md = cmd
		}
	}
	opts := infer.ClassifierOptions{Normalize: m.Normalize, Resize: m.Resize, Fit: m.Fit, ColorOrder: m.Color, Graph: f.Model}
	if labels != "" {
		if opts.Labels, err = infer.ReadLabels(labels); err != nil {
			return nil, nil, err
		}
	}
	return lime.Classifiers(runtime.NumCPU(), func() (infer.Engine, error) {
		return infer.NewEngine(f, infer.Options{Backend: infer.BackendNative, Threads: 1})
	}, md, opts)
}

// labelIndex finds a class by label, else by index.
func labelIndex(labels []string, s string) (int, error) {
	for i, l := range labels {
		if l == s {
			return i, nil
		}
	}
	if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(labels) {
		return i, nil
	}
	return 0, fmt.Errorf("explain: label %q is neither one of the model's %d labels nor an index below %d", s, len(labels), len(labels))
}

// copyImage copies src into dst when dst is an image of the same kind
// and bounds made by an earlier call (no allocation), else into a new
// one. Camera layouts are copied as they are (bytes, not converted);
// other kinds are drawn into an RGBA image.
func copyImage(dst, src image.Image) image.Image {
	r := src.Bounds()
	switch s := src.(type) {
	case *capture.YUYV:
		d, ok := dst.(*capture.YUYV)
		if !ok || d.Rect != r {
			d = capture.NewYUYV(r)
		}
		d.Encoding = s.Encoding
		n := d.Stride
		for y := range r.Dy() {
			copy(d.Pix[y*n:(y+1)*n], s.Pix[y*s.Stride:])
		}
		return d
	case *capture.NV12:
		d, ok := dst.(*capture.NV12)
		if !ok || d.Rect != r {
			d = capture.NewNV12(r)
		}
		d.Encoding = s.Encoding
		for y := range r.Dy() {
			copy(d.Y[y*d.YStride:(y+1)*d.YStride], s.Y[y*s.YStride:])
		}
		for y := range len(d.UV) / d.UVStride {
			copy(d.UV[y*d.UVStride:(y+1)*d.UVStride], s.UV[y*s.UVStride:])
		}
		return d
	case *image.Gray:
		d, ok := dst.(*image.Gray)
		if !ok || d.Rect != r {
			d = image.NewGray(r)
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			copy(d.Pix[d.PixOffset(r.Min.X, y):d.PixOffset(r.Min.X, y)+r.Dx()], s.Pix[s.PixOffset(r.Min.X, y):])
		}
		return d
	case *image.RGBA:
		d, ok := dst.(*image.RGBA)
		if !ok || d.Rect != r {
			d = image.NewRGBA(r)
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			copy(d.Pix[d.PixOffset(r.Min.X, y):d.PixOffset(r.Min.X, y)+4*r.Dx()], s.Pix[s.PixOffset(r.Min.X, y):])
		}
		return d
	case *image.YCbCr:
		d, ok := dst.(*image.YCbCr)
		if !ok || d.Rect != r || d.SubsampleRatio != s.SubsampleRatio {
			d = image.NewYCbCr(r, s.SubsampleRatio)
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			copy(d.Y[d.YOffset(r.Min.X, y):d.YOffset(r.Min.X, y)+r.Dx()], s.Y[s.YOffset(r.Min.X, y):])
			c0, c1 := d.COffset(r.Min.X, y), d.COffset(r.Max.X-1, y)+1
			sc := s.COffset(r.Min.X, y)
			copy(d.Cb[c0:c1], s.Cb[sc:])
			copy(d.Cr[c0:c1], s.Cr[sc:])
		}
		return d
	}
	d, ok := dst.(*image.RGBA)
	if !ok || d.Rect != r {
		d = image.NewRGBA(r)
	}
	draw.Draw(d, r, src, r.Min, draw.Src)
	return d
}
