// Package clips holds what the video datasets without actions share: the
// two splits, a batch of clips laid out time-major as the SVG models take
// them, and Source, the interface the built-in ramp scenes (svg/ramp) and
// the Physics 101 loader (svg/phys101) both satisfy, so a trainer takes
// either. Image, Grid and WritePNG turn frames of any of the video
// datasets into 8-bit images and strips.
//
//	var src clips.Source = d                       // *ramp.Dataset or *phys101.Dataset
//	b, err := src.Batch(clips.Train, []int{0, 5}) // b.Frames is [T, 2, 3, H, W] in [0, 1]
package clips
