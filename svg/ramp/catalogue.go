package ramp

import (
	"fmt"
	"math"

	"github.com/noether-vk/noether-vk/svg/clips"
)

// Shape is an object's form, seen from the side.
type Shape int

// The shapes. Every one slides on a flat face: a box on its base, a
// cylinder standing on its end, a disc (a coin, a puck) lying flat, a pole
// lying along the slope; none rolls.
const (
	Box Shape = iota
	Cylinder
	Disc
	Pole
)

func (s Shape) String() string {
	switch s {
	case Box:
		return "box"
	case Cylinder:
		return "cylinder"
	case Disc:
		return "disc"
	case Pole:
		return "pole"
	}
	return fmt.Sprintf("Shape(%d)", int(s))
}

// Material is what an object is made of: its friction against the ramp
// and the table, density, restitution and look. The values are of the
// order of published tables for these pairs of surfaces (wood on wood
// about 0.25-0.5 static); they are chosen so that most objects slide at
// 20 degrees (tan 20° = 0.364) and rubber does not.
type Material struct {
	Name        string
	MuS, MuK    float64 // nominal; each object scales both by one factor in [0.9, 1.1)
	Density     float64 // kg/m³
	Restitution float64
	Shapes      []Shape
	Colours     [][3]float64 // RGB in [0, 1]; an object takes one and scales its brightness
	Shine       bool         // a specular highlight
	Grain       bool         // wood grain along the object
}

// Materials are the catalogue's materials, after Physics 101's (which has
// wood, metal, plastic, cardboard, foam, rubber, porcelain and more).
var Materials = []Material{
	{Name: "wood", MuS: 0.30, MuK: 0.22, Density: 600, Restitution: 0.45, Shapes: []Shape{Box, Box, Pole, Cylinder},
		Colours: [][3]float64{{0.72, 0.52, 0.32}, {0.60, 0.40, 0.22}, {0.80, 0.66, 0.45}}, Grain: true},
	{Name: "metal", MuS: 0.22, MuK: 0.16, Density: 7800, Restitution: 0.55, Shapes: []Shape{Pole, Disc, Cylinder},
		Colours: [][3]float64{{0.62, 0.64, 0.68}, {0.78, 0.62, 0.30}, {0.45, 0.47, 0.50}}, Shine: true},
	{Name: "plastic", MuS: 0.26, MuK: 0.19, Density: 1050, Restitution: 0.6, Shapes: []Shape{Box, Cylinder, Disc},
		Colours: [][3]float64{{0.85, 0.20, 0.18}, {0.20, 0.45, 0.85}, {0.95, 0.80, 0.15}, {0.20, 0.70, 0.30}}, Shine: true},
	{Name: "cardboard", MuS: 0.33, MuK: 0.26, Density: 300, Restitution: 0.25, Shapes: []Shape{Box},
		Colours: [][3]float64{{0.74, 0.58, 0.40}, {0.66, 0.52, 0.36}}},
	{Name: "foam", MuS: 0.30, MuK: 0.25, Density: 60, Restitution: 0.35, Shapes: []Shape{Box, Cylinder},
		Colours: [][3]float64{{0.95, 0.60, 0.70}, {0.55, 0.85, 0.90}, {0.92, 0.92, 0.70}}},
	{Name: "rubber", MuS: 0.90, MuK: 0.75, Density: 1100, Restitution: 0.75, Shapes: []Shape{Box, Disc},
		Colours: [][3]float64{{0.15, 0.15, 0.16}, {0.55, 0.12, 0.10}}},
	{Name: "porcelain", MuS: 0.18, MuK: 0.13, Density: 2400, Restitution: 0.5, Shapes: []Shape{Cylinder, Box},
		Colours: [][3]float64{{0.94, 0.94, 0.92}, {0.85, 0.90, 0.97}}, Shine: true},
}

// sizeRange is the range of each shape's length (along the surface) and
// height (perpendicular to it), in metres.
var sizeRange = map[Shape][2][2]float64{
	Box:      {{0.06, 0.12}, {0.04, 0.09}},
	Cylinder: {{0.04, 0.08}, {0.05, 0.10}},
	Disc:     {{0.04, 0.08}, {0.008, 0.018}},
	Pole:     {{0.10, 0.15}, {0.02, 0.035}},
}

// Look is how a body is drawn.
type Look struct {
	Shape          Shape
	Length, Height float64 // m
	Colour         [3]float64
	Shine, Grain   bool
}

// Object is an item of the catalogue, the same in every trial it appears
// in: its look, material and mechanics.
type Object struct {
	ID       int
	Material string
	Look
	Body Body
}

// newObject draws object id of the catalogue.
func newObject(id int, r *clips.RNG) Object {
	m := Materials[r.Intn(len(Materials))]
	shape := m.Shapes[r.Intn(len(m.Shapes))]
	size := sizeRange[shape]
	l, h := r.Uniform(size[0][0], size[0][1]), r.Uniform(size[1][0], size[1][1])
	colour := m.Colours[r.Intn(len(m.Colours))]
	bright := r.Uniform(0.85, 1.15)
	for c := range colour {
		colour[c] = math.Min(1, colour[c]*bright)
	}
	friction := r.Uniform(0.9, 1.1)
	// The depth (across the view) of a box is drawn too; cylinders and
	// discs are round and poles are round across their axis.
	var volume float64
	switch shape {
	case Box:
		volume = l * h * r.Uniform(0.6, 1.0) * l
	case Cylinder, Disc:
		volume = math.Pi * l * l / 4 * h
	case Pole:
		volume = math.Pi * h * h / 4 * l
	}
	return Object{
		ID: id, Material: m.Name,
		Look: Look{Shape: shape, Length: l, Height: h, Colour: colour, Shine: m.Shine, Grain: m.Grain},
		Body: Body{Length: l, Mass: m.Density * volume, MuS: m.MuS * friction, MuK: m.MuK * friction, Restitution: m.Restitution},
	}
}

// Target is the body resting on the table that the object hits. The
// targets stand on rough feet (kinetic friction 0.33 to 0.42, above most
// objects'), so that a hit target stops within a few centimetres, in
// view.
type Target struct {
	Name string
	Look
	Body Body
}

// Targets are the three targets a trial chooses from.
var Targets = []Target{
	{Name: "cardboard box", Look: Look{Shape: Box, Length: 0.10, Height: 0.09, Colour: [3]float64{0.78, 0.63, 0.44}},
		Body: Body{Length: 0.10, Mass: 0.30, MuS: 0.45, MuK: 0.38, Restitution: 0.3}},
	{Name: "wooden block", Look: Look{Shape: Box, Length: 0.08, Height: 0.06, Colour: [3]float64{0.52, 0.33, 0.19}, Grain: true},
		Body: Body{Length: 0.08, Mass: 0.45, MuS: 0.50, MuK: 0.42, Restitution: 0.5}},
	{Name: "plastic crate", Look: Look{Shape: Box, Length: 0.09, Height: 0.08, Colour: [3]float64{0.18, 0.38, 0.72}, Shine: true},
		Body: Body{Length: 0.09, Mass: 0.25, MuS: 0.40, MuK: 0.33, Restitution: 0.6}},
}
