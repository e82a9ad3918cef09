module github.com/dailytoken/dailytoken/test

go 1.26.0

replace github.com/dailytoken/dailytoken => ../

require (
	github.com/dailytoken/dailytoken v0.0.0-00010101000000-000000000000
	github.com/mitchellh/mapstructure v1.5.1-0.20231216201459-8508981c8b6c
	github.com/traefik/yaegi v0.16.1
	golang.org/x/mod v0.36.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/golang-jwt/jwt/v5 v5.3.1
)
