// main.cpp - process entry of dnsproxy: a ServerApplication, nothing else.
#include "app/DnsProxyApp.h"

#include <iostream>

POCO_SERVER_MAIN(dnsproxy::app::DnsProxyApp)
