module github.com/kpibot/kpibot

go 1.26
