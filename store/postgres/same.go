package postgres

// SameDatabase reports whether the URLs a and b name one database, however
// they spell it: postgres:// or postgresql://, the parameters in any order,
// the defaults left out or given. It compares the host, port and database
// name, not the user: the tables are not qualified by a schema, so two
// users of a database share them. A URL that does not parse names none.
func SameDatabase(a, b string) bool {
	ca, errA := parseURL(a)
	cb, errB := parseURL(b)
	if errA != nil || errB != nil {
		return false
	}
	x, y := ca.pool.ConnConfig, cb.pool.ConnConfig
	return x.Host == y.Host && x.Port == y.Port && x.Database == y.Database
}
