module github.com/dailytoken/dailytoken

go 1.26.0
