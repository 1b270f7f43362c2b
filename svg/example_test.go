package svg_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/noether-vk/noether-vk/graph"
	"github.com/noether-vk/noether-vk/svg"
)

// The default preset, shortened for the example: its training objective
// built with the latent offsets as the tailored sites (at their start,
// the identity), compiled, and run on the CPU on grey frames.
func Example() {
	cfg, err := svg.Preset("default")
	if err != nil {
		log.Fatal(err)
	}
	cfg.ImageSize, cfg.NFuture = 16, 3
	m, err := svg.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%v-%d, %v: %d parameter tensors, %d CN sites\n", cfg.Family, cfg.ImageSize, cfg.Variant, len(m.Params()), len(m.CNSites())/2)
	for _, s := range m.OffsetSites() {
		fmt.Println("offset", s.Name, s.Shape)
	}

	const batch = 1
	g := graph.New()
	m.Declare(g)
	in := m.DeclareInputs(g, batch)
	offsets := svg.Adaptation{Sites: m.OffsetSites()}
	c := m.Context(g, nil, offsets.Bind(offsets.Start(g, nil, batch)))
	p, err := m.TeacherForced(c, in)
	if err != nil {
		log.Fatal(err)
	}
	loss, err := m.Loss(g, p, in.Frames)
	if err != nil {
		log.Fatal(err)
	}
	last := p.Frames[len(p.Frames)-1]
	prog, err := g.Compile(graph.CompileOptions{}, loss, last)
	if err != nil {
		log.Fatal(err)
	}
	e := prog.OnCPU()
	for name, v := range m.Init(rand.New(rand.NewPCG(1, 2))) {
		if err := e.SetParam(name, v); err != nil {
			log.Fatal(err)
		}
	}
	frames := make([]float32, cfg.Frames()*batch*cfg.Channels*cfg.ImageSize*cfg.ImageSize)
	for i := range frames {
		frames[i] = 0.25
	}
	out, err := e.Run(map[string][]float32{
		svg.FramesInput:  frames,
		svg.ActionsInput: make([]float32, (cfg.Frames()-1)*batch*cfg.ActionDim),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d frames; the last predicted %v; loss %.4f\n", len(p.Frames), last.Shape(), out[0][0])
	// Output:
	// dcgan-16, deterministic: 34 parameter tensors, 5 CN sites
	// offset frame_predictor.lstm.0.offset [64]
	// offset frame_predictor.lstm.1.offset [64]
	// 7 frames; the last predicted 1x3x16x16; loss 0.1935
}
