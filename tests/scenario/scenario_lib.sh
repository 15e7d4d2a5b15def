# scenario_lib.sh — sourced by the scenario tests: a scratch directory and
# a small replay configuration in it, as a user would write one.
qts=${QTS_BUILD_DIR:?}/qts
plugins=${QTS_PLUGIN_DIR:?}
dir=$(mktemp -d)

# write_config <broker config line> [feed config lines, default 100 events]
#              [broker plugin, default broker_paper]: writes $dir/qts.yaml
# at once (a running host never reads half a file). The broker line is the
# last line of the file, at column 5.
write_config() {
    cat >"$dir/qts.yaml.new" <<YAML
mode: replay
paths:
  var_dir: $dir/var
plugins:
  dir: $plugins
instruments:
  - symbol: SYNTH
    tick_size: "0.01"
feeds:
  - name: demo
    plugin: feed_synthetic
    config:
${2:-      events: 100}
broker:
  plugin: ${3:-broker_paper}
  config:
    $1
YAML
    mv "$dir/qts.yaml.new" "$dir/qts.yaml"
}
