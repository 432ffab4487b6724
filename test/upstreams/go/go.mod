module warden.test/upstream-go

go 1.19
