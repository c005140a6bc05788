package storetest

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // the driver of database/sql's "sqlite"
)

// SQLitePersonalData is every value in any table of the SQLite database at path that
// contains one of needles (compared in lower case), as "table: value": what an
// erasure must leave none of.
func SQLitePersonalData(t testing.TB, path string, needles ...string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	var found []string
	for _, table := range tables {
		rs, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rs.Columns()
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				text := strings.ToLower(fmt.Sprint(v))
				if b, ok := v.([]byte); ok {
					text = strings.ToLower(string(b))
				}
				for _, n := range needles {
					if strings.Contains(text, strings.ToLower(n)) {
						found = append(found, table+": "+text)
					}
				}
			}
		}
		rs.Close()
	}
	return found
}
