package shaders

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:generate go run ../tools/shaderc -dir .

//go:embed *.spv
var spv embed.FS

// SPIRV returns the compiled module of the named kernel family ("saxpy"
// for saxpy.comp). It panics when the name is unknown: every caller names
// a shader that is committed with this package.
func SPIRV(name string) []byte {
	b, err := spv.ReadFile(name + ".spv")
	if err != nil {
		panic(fmt.Sprintf("shaders: no compiled shader %q (run make shaders)", name))
	}
	return b
}

// Names lists the embedded kernel families.
func Names() []string {
	ents, _ := fs.ReadDir(spv, ".")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".spv"))
	}
	sort.Strings(out)
	return out
}
