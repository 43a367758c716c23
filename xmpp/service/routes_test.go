package service

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestEveryRequestHasARoute reads package protocol's source for every type
// that is a Request (it has the request method) and fails for one that the
// route table does not name: a new request kind cannot reach the service
// without being routed (it would be answered service-unavailable).
func TestEveryRequestHasARoute(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "protocol", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var kinds []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "request" || fn.Recv == nil || len(fn.Recv.List) != 1 {
				continue
			}
			if id, ok := fn.Recv.List[0].Type.(*ast.Ident); ok {
				kinds = append(kinds, id.Name)
			}
		}
	}
	if len(kinds) < 20 {
		t.Fatalf("found only %d request kinds in package protocol: %v", len(kinds), kinds)
	}
	routed := map[string]bool{}
	for typ := range routes {
		routed[typ.Name()] = true
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		if !routed[k] {
			t.Errorf("protocol.%s has no route in routeTable", k)
		}
		delete(routed, k)
	}
	for k := range routed {
		t.Errorf("routeTable routes %s, which is not a protocol request", k)
	}
	if len(routeTable) != len(routes) {
		t.Errorf("routeTable names a request kind twice (%d entries, %d kinds)", len(routeTable), len(routes))
	}
}
