// Package ramp is a built-in dataset of Physics 101-style clips (the
// paper's Figure 4 data, which cannot be downloaded here): an object
// slides down a 20-degree ramp and hits a second object resting on the
// table below. Everything is made from a seed; nothing is downloaded.
//
//	d, err := ramp.New(ramp.DefaultConfig())          // 311 training, 78 test clips of 22 frames, 64x64
//	b, err := d.Batch(clips.Train, []int{0, 17, 42}) // Frames [22, 3, 3, 64, 64] in [0, 1]
//
// *Dataset is a clips.Source, like the Physics 101 loader (svg/phys101).
//
// # The mechanics
//
// Trial states the model and Simulate works it out exactly, event by
// event, with closed forms between events (piecewise constant
// accelerations): the object slides at a = g (sin 20° - MuK cos 20°) when
// static friction cannot hold it (MuS < tan 20° = 0.364), otherwise it
// stays put; it keeps its speed at the ramp's foot and brakes at MuK g on
// the table; it hits the target in a one-dimensional impact with
// restitution e = min of the two bodies' (momentum conserved exactly,
// separation speed e times the closing speed); a light object bounces back
// (and may go up the ramp again), a target braking harder than the object
// may be caught up again, and below a closing speed of 5 mm/s the object
// pushes it (JoinSpeed). The tests check positions on the ramp and the
// table against closed forms worked out by hand, the collision's
// velocities and momentum, the static case, and that bodies never overlap.
//
// # Objects and splits
//
// A catalogue of objects (Objects, 60 by default) is drawn from the seed:
// a material (wood, metal, plastic, cardboard, foam, rubber, porcelain:
// friction, density, restitution and look), a shape (box, upright
// cylinder, disc lying flat, pole lying along the slope; all slide, none
// rolls), a size, a colour, and a friction factor in [0.9, 1.1) per
// object; the mass follows from density and volume. Rubber does not
// slide; in the default data 41 of the 311 training clips are static and
// 250 show a collision.
//
// Each clip is a trial of one catalogue object: its own target (a
// cardboard box, a wooden block or a plastic crate), release point 8 cm or
// more up the ramp, target position just beyond the foot, and start time
// (frame 0 is taken 0 to 0.4 s after the release; frames are 1/15 s apart,
// Physics 101's 30 fps with every second frame kept). The default split
// is the reference's: 311 training and 78 test clips of 22 frames (2
// given, 20 predicted). As in the reference's split, most test objects
// appear in training and a few do not: the test clips show 44 objects, 42
// of which appear in training and 2 (the catalogue's last,
// NovelTestObjects) only in the test split; the 58 training objects each
// appear in 5 or 6 training clips. The test counts it.
//
// Every catalogue object and every clip draws its random numbers from its
// own PCG stream keyed by the seed and what it is (clips.NewRNG), so the
// same seed gives byte-identical frames (on one architecture; Go may fuse
// multiply-adds on others), and one split does not change with the size
// of the other.
//
// # The picture
//
// A fixed side view of 0.6 m x 0.6 m at any size (64 and 128 pixels are
// the presets'; a non-square frame stretches the view): a plaster wall of
// value noise lit from the upper left and darker just above the table, a
// wooden table front with grain, the ramp's side with grain along the
// slope, its upper part outside the view. The static set is drawn once per
// dataset, each pixel the mean of 4x4 samples (Background). Per frame,
// each body casts a soft contact shadow and is drawn shaded (boxes and
// discs lit from above with a bevel, cylinders and poles shaded across
// their round side, a specular band on shiny materials, grain on wood); a
// pixel its outline crosses averages 4x4 samples of the body and the
// pixel's colour so far, the others take the body's shading at their
// centre. Crossing the ramp's foot a body tips over the edge (PoseAt). The
// 128-pixel frame averaged over 2x2 blocks matches the 64-pixel frame to
// 0.005 on average (a test), and a golden image (testdata/golden.png)
// holds a few frames at 64 pixels.
//
// Rendering one clip of 22 frames took 41 ms at 64 pixels and 61 ms at
// 128 (go test -bench, 50 clips each) on 2 shared cores with a load average
// of 19 (uptime); frames are rendered when a batch asks for them, so the
// dataset itself holds only the trials and the background.
package ramp
