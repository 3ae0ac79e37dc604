module corral/relay

go 1.22
