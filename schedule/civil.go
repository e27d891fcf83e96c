package schedule

// Civil-calendar arithmetic on day numbers (days since 1970-01-01, proleptic
// Gregorian), after Howard Hinnant's "chrono-compatible low-level date
// algorithms". The cron search works on civil dates and needs these many
// times per Next; time.Date and Time.Date would cost a zone lookup each.

const secondsPerDay = 86400

// floorDiv is a/b rounded towards minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// daysFromCivil returns the day number of y-m-d (m 1-12, d 1-31).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// weekday of a day number, 0 = Sunday as in time.Weekday.
func weekday(days int64) int {
	return int((days%7 + 7 + 4) % 7) // 1970-01-01 was a Thursday
}

func isLeap(y int64) bool {
	return y%4 == 0 && (y%100 != 0 || y%400 == 0)
}

func monthLen(y, m int64) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// isoWeek returns the ISO 8601 week number (1-53) of a day number.
func isoWeek(days int64) int {
	// The ISO week belongs to the year of its Thursday.
	thu := days + int64(3-(weekday(days)+6)%7)
	y, _, _ := civilFromDays(thu)
	return int((thu-daysFromCivil(y, 1, 1))/7) + 1
}
