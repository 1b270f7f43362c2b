// Package graphtest holds the steps every test of a graph-building
// package repeats: compile, set parameters, run, failing the test on any
// error. (Package graph's own tests cannot import it: it imports graph.)
package graphtest
