package kernels

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Im2Col unfolds one image x [C, H, W] of conv2d p into col
// [C*KH*KW, OH*OW]: col[(c*KH+ky)*KW+kx, oy*OW+ox] = x[c, iy, ix] with
// iy = oy*Stride - Pad + ky (likewise ix), 0 where that falls in the
// padding. col must hold C*KH*KW*OH*OW floats.
func Im2Col(p ConvParams, x, col []float32) error {
	g, err := p.geom(false)
	if err != nil {
		return err
	}
	rows, cols := g.C*g.KH*g.KW, g.OH*g.OW
	if len(x) != g.C*g.H*g.W || len(col) != rows*cols {
		return fmt.Errorf("kernels: im2col %v: x has %d elements (want %d), col %d (want %d)", p, len(x), g.C*g.H*g.W, len(col), rows*cols)
	}
	for c := range g.C {
		for ky := range g.KH {
			for kx := range g.KW {
				row := col[((c*g.KH+ky)*g.KW+kx)*cols:][:cols]
				for oy := range g.OH {
					iy := oy*g.S - g.P + ky
					dst := row[oy*g.OW : (oy+1)*g.OW]
					if iy < 0 || iy >= g.H {
						clear(dst)
						continue
					}
					src := x[(c*g.H+iy)*g.W : (c*g.H+iy+1)*g.W]
					for ox := range dst {
						ix := ox*g.S - g.P + kx
						if ix < 0 || ix >= g.W {
							dst[ox] = 0
						} else {
							dst[ox] = src[ix]
						}
					}
				}
			}
		}
	}
	return nil
}

// col2Im adds col [C*KH*KW, OH*OW] back into the image dx [C, H, W]
// (the adjoint of Im2Col); dx must be zero on entry.
func col2Im(g convGeom, col, dx []float32) {
	cols := g.OH * g.OW
	for c := range g.C {
		for ky := range g.KH {
			for kx := range g.KW {
				row := col[((c*g.KH+ky)*g.KW+kx)*cols:][:cols]
				for oy := range g.OH {
					iy := oy*g.S - g.P + ky
					if iy < 0 || iy >= g.H {
						continue
					}
					dst := dx[(c*g.H+iy)*g.W : (c*g.H+iy+1)*g.W]
					for ox, v := range row[oy*g.OW : (oy+1)*g.OW] {
						if ix := ox*g.S - g.P + kx; ix >= 0 && ix < g.W {
							dst[ix] += v
						}
					}
				}
			}
		}
	}
}

// Conv2DGemm is the CPU baseline of conv2d: im2col, then gonum's pure-Go
// Sgemm per image (forward Y = W col, input gradient col2im(Wᵀ G), weight
// gradient sum over images of G colᵀ). It keeps its column buffer between
// calls; not safe for concurrent use.
type Conv2DGemm struct {
	P   ConvParams
	g   convGeom
	col []float32
}

// NewConv2DGemm prepares the baseline for p.
func NewConv2DGemm(p ConvParams) (*Conv2DGemm, error) {
	g, err := p.geom(false)
	if err != nil {
		return nil, err
	}
	return &Conv2DGemm{P: p, g: g, col: make([]float32, g.C*g.KH*g.KW*g.OH*g.OW)}, nil
}

// begin checks the arguments (spec as for checkConv) and returns the
// [K, C*KH*KW] matrix over wd (the weights or their gradient) and the
// column matrix [C*KH*KW, OH*OW].
func (c *Conv2DGemm) begin(spec string, wd []float32, args ...[]float32) (wm, cm blas32.General, err error) {
	if _, err := checkConv(c.P, false, spec, args...); err != nil {
		return wm, cm, err
	}
	g := c.g
	rows, cols := g.C*g.KH*g.KW, g.OH*g.OW
	wm = blas32.General{Rows: g.K, Cols: rows, Stride: rows, Data: wd}
	cm = blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: c.col}
	return wm, cm, nil
}

// image is sample n of x [N, C, H, W] (or of its gradient).
func (c *Conv2DGemm) image(x []float32, n int) []float32 {
	m := c.g.C * c.g.H * c.g.W
	return x[n*m : (n+1)*m]
}

// outMat is sample n of y [N, K, OH, OW] (or of its cotangent) as a
// [K, OH*OW] matrix.
func (c *Conv2DGemm) outMat(y []float32, n int) blas32.General {
	cols := c.g.OH * c.g.OW
	m := c.g.K * cols
	return blas32.General{Rows: c.g.K, Cols: cols, Stride: cols, Data: y[n*m : (n+1)*m]}
}

// Forward writes y = conv2d(x, w) + bias (bias may be nil).
func (c *Conv2DGemm) Forward(x, w, bias, y []float32) error {
	wm, cm, err := c.begin("x:x w:w bias:b y:y", w, x, w, bias, y)
	if err != nil {
		return err
	}
	for n := range c.g.N {
		if err := Im2Col(c.P, c.image(x, n), c.col); err != nil {
			return err
		}
		ym := c.outMat(y, n)
		beta := float32(0)
		if bias != nil {
			for k := range c.g.K {
				row := ym.Data[k*ym.Cols : (k+1)*ym.Cols]
				for i := range row {
					row[i] = bias[k]
				}
			}
			beta = 1
		}
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, wm, cm, beta, ym)
	}
	return nil
}

// InputGrad writes dx for y's cotangent gy.
func (c *Conv2DGemm) InputGrad(w, gy, dx []float32) error {
	wm, cm, err := c.begin("w:w g:y dx:x", w, w, gy, dx)
	if err != nil {
		return err
	}
	clear(dx)
	for n := range c.g.N {
		blas32.Gemm(blas.Trans, blas.NoTrans, 1, wm, c.outMat(gy, n), 0, cm)
		col2Im(c.g, c.col, c.image(dx, n))
	}
	return nil
}

// WeightGrad writes dw for y's cotangent gy.
func (c *Conv2DGemm) WeightGrad(x, gy, dw []float32) error {
	dm, cm, err := c.begin("x:x g:y dw:w", dw, x, gy, dw)
	if err != nil {
		return err
	}
	for n := range c.g.N {
		if err := Im2Col(c.P, c.image(x, n), c.col); err != nil {
			return err
		}
		beta := float32(1)
		if n == 0 {
			beta = 0
		}
		blas32.Gemm(blas.NoTrans, blas.Trans, 1, c.outMat(gy, n), cm, beta, dm)
	}
	return nil
}
