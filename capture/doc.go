// Package capture delivers frames from cameras, image folders and a
// synthetic pattern, and decides when an item on the conveyor starts.
//
// # Frames, sources, triggers, cameras
//
// A Source yields Frames: OpenV4L2 (a Video4Linux2 camera), NewFolder
// (image files as a simulated conveyor) and NewPattern (a moving test
// pattern). A Trigger says when an item (one fruit) starts: Continuous
// (every frame is an item, at most N a second), Interval, GPIO (an edge of
// a light barrier, through periph.io) and Command (fired from code, e.g.
// an MQTT command). A Camera ties one of each together: per trigger it
// takes Frames frames, crops them to its region of interest, stamps them
// with the item id, and hands them on.
//
// # Buffers
//
// Each camera and pattern source owns a pool of fixed-size buffers. A
// raw frame is copied out of the driver's buffer into a pooled one (the
// driver's buffer is queued again at once), wrapped in an image header
// that lives in the same pool slot, and returned; Frame.Release gives the
// slot back. Cropping to the region of interest narrows that header in
// place. So after warm-up a camera allocates nothing per frame. MJPEG
// frames and folder images are the exception: image/jpeg and friends
// allocate the decoded image.
//
// # Pixel formats and colour
//
// Camera frames keep the camera's layout: *YUYV (V4L2_PIX_FMT_YUYV, packed
// 4:2:2), *NV12 (V4L2_PIX_FMT_NV12, 4:2:0), *image.Gray (GREY) or, for
// MJPEG, what image/jpeg decodes (*image.YCbCr, full range). YUYV and NV12
// implement preprocess.RowImage: the classifier converts to RGB only the
// rows it samples, in the same pass as its crop and resize.
//
// Y'CbCr to RGB follows the colorimetry the driver reports with the
// format (struct v4l2_pix_format's colorspace, ycbcr_enc, quantization,
// with the V4L2_MAP_*_DEFAULT rules of the V4L2 specification, "Colorspaces"
// chapter). For the usual webcam YUYV that is ITU-R BT.601 in limited range
// (Y' 16..235, Cb/Cr 16..240), V4L2's default, and not the full-range JPEG
// equation of image/color: using the latter on a limited-range camera
// would wash out contrast. ColorEncoding names the four supported
// variants; BT601Full is bit-identical to image/color.YCbCrToRGB.
//
// # V4L2
//
// OpenV4L2 negotiates through github.com/blackjack/webcam: the first
// offered format of a preference list, the nearest frame size, a frame
// rate, a small number of buffers (4), then reads back what the driver
// really chose (VIDIOC_G_FMT) including the line stride, which may be
// wider than the image. Read returns the newest frame (older filled
// buffers are queued again and counted as dropped) so a triggered camera
// never answers with a frame from before the trigger. When the device
// fails or is unplugged, Read closes it and reopens it with capped
// exponential backoff; V4L2.Health and V4L2Options.OnHealth report the
// state. See the Linux kernel's "Video for Linux API" (V4L2) for the
// ioctls and formats.
//
// # Tests
//
// The V4L2 path is proven against a real driver: .ci/v4l2vm.sh boots
// Debian's kernel with the vivid virtual camera under qemu and runs this
// package's V4L2 tests inside (they are skipped unless
// FRUITCAM_V4L2_DEVICE names a device). Fake sources for other packages'
// tests are in capturetest; fake GPIO pins come from periph's gpiotest.
package capture
