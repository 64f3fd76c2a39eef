#include "creni/app/cli.hpp"

int main(int argc, char** argv) { return creni::app::run_cli(argc, argv); }
