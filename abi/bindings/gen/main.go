// Command gen writes the files of package bindings, from the repository's
// root (go generate runs it in abi/bindings).
package main

import (
	"log"
	"os"
	"path/filepath"

	"github.com/dohost/dohost/abi/bindings"
)

func main() {
	for _, f := range bindings.Files() {
		path := filepath.Join("..", "..", f.Path)
		if err := os.WriteFile(path, []byte(f.Data), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
