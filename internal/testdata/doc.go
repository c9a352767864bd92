// Package testdata locates the shared, read-only test fixtures (real
// models and images from public repositories) that live outside the
// module.
//
// The root is $FRUITCAM_TESTDATA when set, else ../shared/testdata beside
// the module root (the directory holding go.mod). The files are never
// copied into the repository: they keep their own licences there.
//
// A test that needs a fixture calls Path. On a developer machine without
// the fixtures the test is skipped; under CI=true a missing fixture fails
// the test, because a suite that silently skipped its real-data checks has
// not proven anything.
package testdata
