package preprocess

import "image"

// RowImage is an image that converts its own rows to RGB: camera frames
// in Y'CbCr layouts (package capture's YUYV and NV12) implement it, so a
// Preprocessor converts only the rows it samples, in the same pass as
// the crop and resize, instead of converting the whole frame first.
type RowImage interface {
	image.Image
	// RGBRow fills dst with row y (an absolute coordinate inside
	// Bounds) of the image, columns Bounds().Min.X to Bounds().Max.X, as
	// packed R, G, B bytes: 3*Bounds().Dx() of them.
	RGBRow(y int, dst []uint8)
}
