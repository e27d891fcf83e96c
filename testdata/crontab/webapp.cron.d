# /etc/cron.d/webapp: crontab fragment for the web application.
# Like /etc/crontab, files in /etc/cron.d have a user column.
MAILTO=root

# Laravel's scheduler, as the web server's user
* * * * *      www-data  cd /srv/webapp && php artisan schedule:run >> /dev/null 2>&1

# Look for and purge old PHP sessions every 30 minutes
09,39 * * * *  root      [ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi
