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

func (c *Conv2DGemm) mats() (rows, cols, imgIn, imgOut int) {
	g := c.g
	return g.C * g.KH * g.KW, g.OH * g.OW, g.C * g.H * g.W, g.K * g.OH * g.OW
}

// Forward writes y = conv2d(x, w) + bias (bias may be nil).
func (c *Conv2DGemm) Forward(x, w, bias, y []float32) error {
	if _, err := checkConv(c.P, false, "x:x w:w bias:b y:y", x, w, bias, y); err != nil {
		return err
	}
	rows, cols, imgIn, imgOut := c.mats()
	wm := blas32.General{Rows: c.g.K, Cols: rows, Stride: rows, Data: w}
	cm := blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: c.col}
	for n := range c.g.N {
		if err := Im2Col(c.P, x[n*imgIn:(n+1)*imgIn], c.col); err != nil {
			return err
		}
		ym := blas32.General{Rows: c.g.K, Cols: cols, Stride: cols, Data: y[n*imgOut : (n+1)*imgOut]}
		beta := float32(0)
		if bias != nil {
			for k := range c.g.K {
				row := ym.Data[k*cols : (k+1)*cols]
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
	if _, err := checkConv(c.P, false, "w:w g:y dx:x", w, gy, dx); err != nil {
		return err
	}
	rows, cols, imgIn, imgOut := c.mats()
	wm := blas32.General{Rows: c.g.K, Cols: rows, Stride: rows, Data: w}
	cm := blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: c.col}
	clear(dx)
	for n := range c.g.N {
		gm := blas32.General{Rows: c.g.K, Cols: cols, Stride: cols, Data: gy[n*imgOut : (n+1)*imgOut]}
		blas32.Gemm(blas.Trans, blas.NoTrans, 1, wm, gm, 0, cm)
		col2Im(c.g, c.col, dx[n*imgIn:(n+1)*imgIn])
	}
	return nil
}

// WeightGrad writes dw for y's cotangent gy.
func (c *Conv2DGemm) WeightGrad(x, gy, dw []float32) error {
	if _, err := checkConv(c.P, false, "x:x g:y dw:w", x, gy, dw); err != nil {
		return err
	}
	rows, cols, imgIn, imgOut := c.mats()
	dm := blas32.General{Rows: c.g.K, Cols: rows, Stride: rows, Data: dw}
	cm := blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: c.col}
	for n := range c.g.N {
		if err := Im2Col(c.P, x[n*imgIn:(n+1)*imgIn], c.col); err != nil {
			return err
		}
		gm := blas32.General{Rows: c.g.K, Cols: cols, Stride: cols, Data: gy[n*imgOut : (n+1)*imgOut]}
		beta := float32(1)
		if n == 0 {
			beta = 0
		}
		blas32.Gemm(blas.NoTrans, blas.Trans, 1, gm, cm, beta, dm)
	}
	return nil
}
