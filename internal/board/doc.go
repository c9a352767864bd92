// Package board checks that a machine can run the fruitcam agent, the way
// a field engineer would before blaming the software: which board and OS
// it is, whether the shared libraries of the tflite build are there and
// are the right ones, whether the Coral Edge TPUs and the cameras can be
// opened by this user, and, given a config, whether its model and backend
// will run here. `agent doctor` prints the checklist.
//
// # Results
//
// Diagnose runs a list of Checks; each returns Results: a name, a Status,
// a detail and, for anything not OK, the fix. The statuses mean:
//
//	OK    works
//	Skip  absent, and nothing needs it (no TPU on a board that runs native)
//	Warn  works, but worse than it could: a USB 2 port, a hot CPU, no
//	      CPU model to fall back on
//	Fail  will not work: something present is broken (a library for the
//	      wrong architecture, a device node this user cannot open), or
//	      something the config needs is missing
//
// How much a missing part matters depends on the config (Need): with
// backend edgetpu a missing libedgetpu.so.1 fails, with backend auto and
// an Edge TPU model it is a warning (the CPU model runs instead), with
// backend native it is skipped.
//
// # The machine
//
// Checks read the machine through a Host whose Root is where the machine's
// "/" is: "/" on the board itself, a fake tree (testdata/pi4, coral,
// jetson, x86) in tests. What they read:
//
//   - /proc/device-tree/model and compatible (the devicetree
//     specification's root node properties), else /sys/class/dmi/id;
//   - /proc/sys/kernel/arch or uname(2), and dpkg's own Architecture for
//     the userland;
//   - /sys/devices/system/cpu/online, /proc/meminfo,
//     /sys/class/thermal/thermal_zone*/{type,temp} (millidegrees Celsius),
//     and the Raspberry Pi firmware's get_throttled bits (0-3 now, 16-19
//     since boot);
//   - shared libraries, searched where infer/delegate's
//     FindEdgeTPULibrary searches (LD_LIBRARY_PATH, /usr/lib/<triplet>,
//     /usr/local/lib, /usr/lib; for the linked C library also the agent
//     binary's own run path, and /etc/ld.so.cache for directories the
//     dynamic linker only knows through it), then read with debug/elf:
//     machine, class and float ABI against the binary's GOARCH, the
//     dynamic symbols the tflite build links or dlsyms, DT_NEEDED, and
//     the owning Debian package from /var/lib/dpkg (deb-status(5));
//   - USB devices from /sys/bus/usb/devices/*/{idVendor,idProduct,busnum,
//     devnum,speed} (Documentation/ABI/testing/sysfs-bus-usb): the Coral
//     USB Accelerator is 1a6e:089a until its firmware is loaded, 18d1:9302
//     after; PCIe Edge TPUs as /dev/apex_N (the gasket/apex driver) or, with
//     no driver, as PCI device 1ac1:089a;
//   - /dev/video* with /sys/class/video4linux/videoN/{name,index}.
//
// Device nodes are never opened: Host.Access asks access(2) whether this
// user could open one for reading and writing.
//
// # Extending
//
// Extra is the hook for checks that only some builds of the agent can
// make. The tflite build's shim (cmd/agent/doctor_tflite.go) appends checks
// that load the libraries the built-in checks found (Env.Libraries), print
// their versions and create the Edge TPU delegate; the default, cgo-free
// build has nothing to add.
package board
