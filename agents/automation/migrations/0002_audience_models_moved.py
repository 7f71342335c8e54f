"""Contacts, lists and inbound messages now belong to the audience app: state only.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audience', '0001_initial'),
        ('triggers', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='contactlistmembership',
                    name='contact',
                ),
                migrations.RemoveField(
                    model_name='contactlist',
                    name='contacts',
                ),
                migrations.RemoveField(
                    model_name='inboundmessage',
                    name='contact',
                ),
                migrations.RemoveField(
                    model_name='contactlist',
                    name='organization',
                ),
                migrations.RemoveField(
                    model_name='contactlistmembership',
                    name='contact_list',
                ),
                migrations.AlterField(
                    model_name='batch',
                    name='contact_list',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='batches', to='audience.contactlist'),
                ),
                migrations.RemoveField(
                    model_name='inboundmessage',
                    name='connector',
                ),
                migrations.RemoveField(
                    model_name='inboundmessage',
                    name='organization',
                ),
                migrations.DeleteModel(
                    name='Contact',
                ),
                migrations.DeleteModel(
                    name='ContactListMembership',
                ),
                migrations.DeleteModel(
                    name='ContactList',
                ),
                migrations.DeleteModel(
                    name='InboundMessage',
                ),
            ],
        ),
    ]
