package gradcam

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/noether-vk/noether-vk/graph/atomicfile"
	"github.com/noether-vk/noether-vk/graph/safetensors"
	"github.com/noether-vk/noether-vk/svg/clips"
)

// The files WriteOutputs writes, by default into a run folder's Folder.
const (
	Folder        = "gradcam"
	MapsName      = "maps.safetensors"
	ExplainedName = "explained.json"
	FigureName    = "figure5.png"
)

// Explained is explained.json: the PCA's variance explained per
// component.
type Explained struct {
	Components int `json:"components"`
	// Ratio is each component's share of the embeddings' total variance
	// (scikit-learn's explained_variance_ratio_), Cumulative the running
	// sum, Variance the components' variances.
	Ratio      []float64 `json:"explained_variance_ratio"`
	Cumulative []float64 `json:"cumulative_ratio"`
	Variance   []float64 `json:"explained_variance"`
	// Samples is the number of embeddings fitted: FitSequences test
	// sequences with PairsPerSequence pairs each (the first DroppedPairs
	// left out).
	Samples          int `json:"samples"`
	FitSequences     int `json:"fit_sequences"`
	PairsPerSequence int `json:"pairs_per_sequence"`
	DroppedPairs     int `json:"dropped_pairs"`
	// SignConvention names how the components' signs were fixed.
	SignConvention string `json:"sign_convention"`
}

// explained is r's Explained.
func (r *Result) explained() Explained {
	p := r.PCA
	e := Explained{Components: p.K(), Ratio: p.Ratio, Variance: p.Variance, Samples: p.Samples,
		FitSequences: r.FitSequences, PairsPerSequence: r.Pairs - DroppedPairs, DroppedPairs: DroppedPairs,
		SignConvention: "svd_flip on the scores (scikit-learn before 1.5): the sample of largest |score| on each component scores positive"}
	sum := 0.0
	for _, v := range p.Ratio {
		sum += v
		e.Cumulative = append(e.Cumulative, sum)
	}
	return e
}

// WriteOutputs writes r into the folder out (a run folder's Folder by
// default), creating it, each file atomically: MapsName (the viewer's
// input, see the package documentation), ExplainedName and FigureName.
// It returns their paths.
func WriteOutputs(out string, r *Result) ([]string, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("gradcam: %w", err)
	}
	paths := []string{filepath.Join(out, MapsName), filepath.Join(out, ExplainedName), filepath.Join(out, FigureName)}
	if err := safetensors.WriteFile(paths[0], r.mapsFile()); err != nil {
		return nil, fmt.Errorf("gradcam: %w", err)
	}
	b, err := json.MarshalIndent(r.explained(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("gradcam: encoding %s: %w", ExplainedName, err)
	}
	if err := atomicfile.Write(paths[1], func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	}); err != nil {
		return nil, fmt.Errorf("gradcam: %w", err)
	}
	img, err := r.Figure()
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(paths[2], func(w io.Writer) error { return png.Encode(w, img) }); err != nil {
		return nil, fmt.Errorf("gradcam: %w", err)
	}
	return paths, nil
}

// mapsFile is MapsName's content.
func (r *Result) mapsFile() *safetensors.File {
	n, t, k, s := len(r.Sequences), r.Pairs, r.PCA.K(), r.Size
	seqs := make([]float32, n)
	for i, q := range r.Sequences {
		seqs[i] = float32(q)
	}
	ratio := make([]float32, k)
	for i, v := range r.PCA.Ratio {
		ratio[i] = float32(v)
	}
	return &safetensors.File{
		Tensors: map[string]safetensors.Tensor{
			"frames":     {Shape: []int{n, t, 3, s, s}, Data: r.Frames},
			"heat":       {Shape: []int{k, n, t, s, s}, Data: r.Maps.Heat},
			"explained":  {Shape: []int{k}, Data: ratio},
			"sequences":  {Shape: []int{n}, Data: seqs},
			"components": {Shape: []int{k, r.PCA.Dim}, Data: r.PCA.Components},
			"mean":       {Shape: []int{r.PCA.Dim}, Data: r.PCA.Mean},
		},
		Meta: map[string]string{"dropped_pairs": strconv.Itoa(DroppedPairs), "fit_samples": strconv.Itoa(r.PCA.Samples)},
	}
}

// Figure layout, in pixels.
const (
	figScale  = 3  // each frame pixel drawn 3x3
	figGap    = 2  // between tiles
	figBlock  = 16 // between sequences
	figLeft   = 92 // row labels
	figTop    = 40 // sequence and step labels
	figMargin = 8
)

// Figure draws the Figure 5 grid: per chosen sequence a block whose
// columns are the Steps and whose rows are the pair's first frame, then
// each component's map blended onto it (PC1 first, with its share of
// the variance).
func (r *Result) Figure() (image.Image, error) {
	n, k, s := len(r.Sequences), r.PCA.K(), r.Size
	if n == 0 || len(r.Steps) == 0 {
		return nil, fmt.Errorf("gradcam: a figure of %d sequences and %d steps", n, len(r.Steps))
	}
	tile := s * figScale
	blockW := len(r.Steps)*(tile+figGap) - figGap
	w := figLeft + n*blockW + (n-1)*figBlock + figMargin
	h := figTop + (k+1)*(tile+figGap) - figGap + figMargin
	// The labels first: the canvas paints its background over the whole
	// image when it is made. 72 dots per inch: a point is a pixel.
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w), vg.Length(h)), vgimg.UseDPI(72), vgimg.UseBackgroundColor(color.Gray{Y: 235}))
	face := font.DefaultCache.Lookup(plot.DefaultFont, 12)
	text := func(x, y int, str string) { // y from the top, at the baseline
		c.FillString(face, vg.Point{X: vg.Length(x), Y: vg.Length(h - y)}, str)
	}
	c.SetColor(color.Black)
	rowY := func(row int) int { return figTop + row*(tile+figGap) + tile/2 + 4 }
	text(figMargin, rowY(0), "frame")
	for comp := range k {
		text(figMargin, rowY(comp+1), fmt.Sprintf("PC%d %.1f%%", comp+1, 100*r.PCA.Ratio[comp]))
	}
	for q, seq := range r.Sequences {
		x0 := figLeft + q*(blockW+figBlock)
		text(x0, 16, fmt.Sprintf("test sequence %d", seq))
		for col, step := range r.Steps {
			text(x0+col*(tile+figGap)+2, figTop-6, fmt.Sprintf("t=%d", step))
		}
	}
	img := c.Image()
	frame := 3 * s * s
	for q := range n {
		x0 := figLeft + q*(blockW+figBlock)
		for col, step := range r.Steps {
			pair := q*r.Pairs + step
			x := x0 + col*(tile+figGap)
			if err := paste(img, r.Frames[pair*frame:(pair+1)*frame], s, x, figTop); err != nil {
				return nil, err
			}
			for comp := range k {
				at := (comp*r.Maps.N + pair) * frame
				if err := paste(img, r.Maps.Blend[at:at+frame], s, x, figTop+(comp+1)*(tile+figGap)); err != nil {
					return nil, err
				}
			}
		}
	}
	return img, nil
}

// paste draws the [3, s, s] frame (values in [0, 1]) at (x0, y0),
// figScale pixels per pixel.
func paste(img draw.Image, f []float32, s, x0, y0 int) error {
	small, err := clips.Image(f, s, s)
	if err != nil {
		return fmt.Errorf("gradcam: figure: %w", err)
	}
	for y := range s * figScale {
		for x := range s * figScale {
			img.Set(x0+x, y0+y, small.NRGBAAt(x/figScale, y/figScale))
		}
	}
	return nil
}
