module github.com/fruitcam/fruitcam

go 1.26
