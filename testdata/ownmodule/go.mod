module example.com/greeter

go 1.26.8

require github.com/dohost/dohost v0.0.0

replace github.com/dohost/dohost => ../..
