package e2e

import "flag"

func flagParse() {
	if !flag.Parsed() {
		flag.Parse()
	}
}
