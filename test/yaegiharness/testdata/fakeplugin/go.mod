module example.com/fakeplugin

go 1.22
