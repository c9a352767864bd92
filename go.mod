module github.com/fruitcam/fruitcam

go 1.26.0

require golang.org/x/image v0.48.0

require github.com/scigolib/hdf5 v0.14.0
