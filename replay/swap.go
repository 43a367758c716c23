package replay

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" database/sql driver
)

var errNotFile = errors.New("not a regular file")

// Swap puts the rebuilt database file at rebuiltPath in place of the live
// one at livePath. Nothing may have either file open: stop the service
// first.
//
// A write-ahead log still beside the rebuilt file is folded into it first,
// so the one file carries everything. The live file's -wal and -shm are
// then removed, because SQLite would replay a log left there into the new
// file, and the rebuilt file is renamed over the live one, which is atomic:
// a crash leaves the old file or the new one, never a mix. (A crash after
// the log's removal and before the rename leaves the old file at an earlier
// checkpoint, which is still consistent; the service catches up from there.)
func Swap(livePath, rebuiltPath string) error {
	fi, err := os.Stat(rebuiltPath)
	if err != nil {
		return fmt.Errorf("replay: swap: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("replay: swap: %s: %w", rebuiltPath, errNotFile)
	}
	if filepath.Clean(livePath) == filepath.Clean(rebuiltPath) {
		return fmt.Errorf("replay: swap: %s is both files", livePath)
	}
	if _, err := os.Stat(rebuiltPath + "-wal"); err == nil {
		if err := foldLog(rebuiltPath); err != nil {
			return fmt.Errorf("replay: swap: %s: %w", rebuiltPath, err)
		}
		if _, err := os.Stat(rebuiltPath + "-wal"); err == nil {
			return fmt.Errorf("replay: swap: %s is in use: its write-ahead log stays", rebuiltPath)
		}
	}
	if err := syncFile(rebuiltPath); err != nil {
		return fmt.Errorf("replay: swap: %w", err)
	}
	for _, p := range []string{livePath + "-wal", livePath + "-shm"} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("replay: swap: %w", err)
		}
	}
	if err := os.Rename(rebuiltPath, livePath); err != nil {
		return fmt.Errorf("replay: swap: %w", err)
	}
	os.Remove(rebuiltPath + "-shm")
	if err := syncFile(filepath.Dir(livePath)); err != nil {
		return fmt.Errorf("replay: swap: %w", err)
	}
	return nil
}

// foldLog checkpoints a database's write-ahead log into the file and
// truncates it; closing the last connection removes it.
func foldLog(path string) error {
	db, err := sql.Open("sqlite3", path+"?_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer db.Close()
	var busy, logged, done int
	if err := db.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &done); err != nil {
		return err
	}
	if busy != 0 {
		return fmt.Errorf("the database is in use")
	}
	return nil
}
