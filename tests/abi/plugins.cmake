# Fixture plugins and the plugin tests (loader, host services, reload,
# HTTP, out-of-tree build). Fixtures are real shared objects built into
# build/tests/abi/fixtures, not build/plugins, so they never look like
# deployable plugins.
set(QTS_FIXTURE_DIR ${PROJECT_BINARY_DIR}/tests/abi/fixtures)
set(QTS_FIXTURE_SRC ${CMAKE_CURRENT_SOURCE_DIR}/abi/fixtures)

# qts_add_fixture_plugin(<name> <source> [DEFS ...])
function(qts_add_fixture_plugin name src)
  cmake_parse_arguments(F "" "" "DEFS" ${ARGN})
  add_library(${name} MODULE ${QTS_FIXTURE_SRC}/${src})
  set_target_properties(${name} PROPERTIES PREFIX "" LIBRARY_OUTPUT_DIRECTORY ${QTS_FIXTURE_DIR}
    C_VISIBILITY_PRESET hidden)
  target_link_libraries(${name} PRIVATE qts_plugin_api qts_warnings qts_sanitizers Threads::Threads)
  if(F_DEFS)
    target_compile_definitions(${name} PRIVATE ${F_DEFS})
  endif()
  set_property(GLOBAL APPEND PROPERTY QTS_FIXTURE_TARGETS ${name})
endfunction()

qts_add_fixture_plugin(fx_good_v1 feed_fixture.c DEFS FX_VERSION="1.0.0" FX_TAG=1)
qts_add_fixture_plugin(fx_good_v2 feed_fixture.c DEFS FX_VERSION="2.0.0" FX_TAG=2)
qts_add_fixture_plugin(fx_no_xfer feed_fixture.c DEFS FX_VERSION="1.1.0" FX_TAG=3 FX_NO_XFER)
qts_add_fixture_plugin(fx_bad_major feed_fixture.c DEFS FX_ABI_MAJOR=99)
qts_add_fixture_plugin(fx_newer_minor feed_fixture.c DEFS FX_ABI_MINOR=999)
qts_add_fixture_plugin(fx_old_minor feed_fixture.c DEFS FX_OLD_MINOR)
qts_add_fixture_plugin(fx_bad_sig feed_fixture.c DEFS FX_BUILD_SIG="qts1-bogus-sig")
qts_add_fixture_plugin(fx_init_fails feed_fixture.c DEFS FX_INIT_FAIL)
qts_add_fixture_plugin(fx_start_fails feed_fixture.c DEFS FX_START_FAIL FX_VERSION="9.9.9")
qts_add_fixture_plugin(fx_slow_drain feed_fixture.c DEFS FX_SLOW_DRAIN FX_VERSION="3.0.0" FX_TAG=4)
qts_add_fixture_plugin(fx_raw_loop feed_fixture.c DEFS FX_RAW_LOOP FX_VERSION="5.0.0" FX_TAG=5)
target_link_libraries(fx_raw_loop PRIVATE PkgConfig::LIBUV)
qts_add_fixture_plugin(fx_broker broker_fixture.c)
qts_add_fixture_plugin(fx_broker_missing_op broker_fixture.c DEFS FX_MISSING_SUBMIT)
qts_add_fixture_plugin(fx_broker_no_keys broker_fixture.c DEFS FX_NO_KEYS)
qts_add_fixture_plugin(fx_no_entry no_entry.c)
qts_add_fixture_plugin(fx_store store_fixture.c)

get_property(QTS_FIXTURE_TARGET_LIST GLOBAL PROPERTY QTS_FIXTURE_TARGETS)

foreach(t test_plugin_loader test_plugin_var_dir test_plugin_reload test_plugin_http test_plugin_out_of_tree
    test_store_plugin)
  qts_add_test(abi ${t} SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/abi/${t}.c TIMEOUT 120)
  target_compile_definitions(${t} PRIVATE QTS_FIXTURE_DIR="${QTS_FIXTURE_DIR}")
  add_dependencies(${t} ${QTS_FIXTURE_TARGET_LIST})
endforeach()
if(QTS_SANITIZE)
  # the out-of-tree plugin must carry the same build signature as the host
  target_compile_definitions(test_plugin_out_of_tree PRIVATE
    QTS_OOT_EXTRA_CFLAGS="-fsanitize=address,undefined")
endif()
